"""The benchmark framework behind bench/run.py: what a group of benchmarks is, how one case runs
(natively, or under callgrind for an exact instruction count), and how results become statistics,
Markdown, CSV and gnuplot plots.

Vocabulary:
  group       one table and one plot: "frame_ops", "paging", ...
  benchmark   a row of that table: "alloc+free 4 KiB (cache)"
  contestant  who runs it: "ferrite (gcc)", "naive (gcc)", later "glibc", "jemalloc", ...
  case        one contestant's run of one benchmark, repeated once per round; it returns samples
              (metric, unit, value), and may return samples of several benchmarks at once (a
              kernel boot that measures everything, say), by naming them in the sample
  round       every case of a group runs once, in order, so contestants interleave: A B C A B C
  peer        the contestant a case is compared with: the ratio is taken within each round, then
              its median, so a slow moment of the machine hits both sides of a ratio alike

A module that adds groups (bench/host_mm.py is one) defines `groups(env) -> list[Group]`; it may
build what it needs first with env.make().  run.py lists the modules.  bench/heap.py runs one
program against many allocators; bench/kernel.py reads a kernel's serial log.
"""
import csv
import dataclasses
import os
import re
import shutil
import statistics
import subprocess
import tempfile
from typing import Callable, Optional


class BenchError(Exception):
    """A case that could not produce its numbers: a crash, a timeout, output it should not give."""


@dataclasses.dataclass(frozen=True)
class Sample:
    metric: str                      # "time", "instructions", "metadata share", ...
    unit: str                        # "ns/op", "instr/op", "% of RAM", ...
    value: float
    benchmark: Optional[str] = None  # None: the benchmark of the case that produced it


@dataclasses.dataclass
class Case:
    benchmark: str
    contestant: str
    run: Callable[[], list]          # one run: a list of Sample
    rounds: Optional[int] = None     # takes part in the first `rounds` rounds only (None: all);
                                     # 1 for exact counts, and for runs too slow to repeat
    peer: Optional[str] = None       # the contestant it is compared with, round by round


@dataclasses.dataclass(frozen=True)
class Target:
    benchmark: str
    metric: str
    limit: float                     # the value must be at most this
    text: str                        # how the table shows it: "<= 30 instr"
    contestant: Optional[str] = None # None: every contestant of the benchmark is judged
    versus: Optional[str] = None     # a contestant: the limit is on the ratio to its value,
                                     # taken round by round ("<= 0.9x mimalloc")


@dataclasses.dataclass
class Plot:
    kind: str                        # "bars": benchmarks side by side; "lines": y against x
    metrics: list                    # one panel per metric
    logy: bool = False
    xlabel: str = ""
    x: dict = dataclasses.field(default_factory=dict)  # "lines": benchmark -> x value


@dataclasses.dataclass
class Group:
    name: str                        # file names and --only: [a-z0-9_]
    title: str
    about: str                       # a paragraph of Markdown: what is measured, and how
    cases: list
    targets: list = dataclasses.field(default_factory=list)
    plot: Optional[Plot] = None
    notes: list = dataclasses.field(default_factory=list)  # Markdown lines after the table, or
                                     # functions of the Results that return them (a comparison
                                     # with groups that ran before)
    compare: Optional[list] = None   # metrics compared with a peer (None: all); not exact properties


@dataclasses.dataclass
class Compiler:
    name: str                        # "gcc", "clang": what CC= takes
    version: str                     # "gcc 12.2.0"
    build: str                       # the BUILD= directory for its objects and binaries


@dataclasses.dataclass
class Env:
    root: str                        # the repository
    build: str                       # BUILD for gcc, relative to root ("build")
    out: str                         # where results go (build/bench)
    quick: bool                      # tiny sizes: keep the benchmarks working, measure nothing
    compilers: list                  # gcc first; clang if installed
    valgrind: bool                   # instruction counts are possible

    def pick(self, full, quick):
        """The size for this run: `quick` under --quick, else `full`."""
        return quick if self.quick else full

    def make(self, *targets, compiler=None):
        """Runs make -j2 for `targets`, with CC and BUILD of `compiler` (default gcc)."""
        compiler = compiler or self.compilers[0]
        cmd = ["make", "-j2", f"CC={compiler.name}", f"BUILD={compiler.build}", *targets]
        p = subprocess.run(cmd, cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            raise BenchError(f"{' '.join(cmd)} failed:\n{tail(p.stdout)}")


def tail(text, lines=20):
    return "\n".join(text.rstrip("\n").split("\n")[-lines:])


# ---------------------------------------------------------------------------------------------
# Running one case.

BENCH_LINE = re.compile(r"^BENCH\t([^\t]+)\t([^\t]+)\t(\S+)\s*$")


def parse_bench_lines(text):
    """The samples in BENCH lines (tab-separated: metric, unit, value), from a benchmark
    binary's output or a serial log."""
    samples = []
    for line in text.replace("\r\n", "\n").split("\n"):
        m = BENCH_LINE.match(line)
        if m:
            samples.append(Sample(m.group(1), m.group(2), float(m.group(3))))
    return samples


def run_process(cmd, timeout, env=None):
    """Runs `cmd` and returns its stdout; a failure or a timeout is a BenchError."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(cmd)}: no result after {timeout} s")
    if p.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} exited with {p.returncode}:\n{tail(p.stderr or p.stdout)}")
    return p.stdout


def run_native(cmd, timeout=1800, env=None):
    """One native run of a benchmark binary: the samples it prints."""
    samples = parse_bench_lines(run_process(cmd, timeout, env))
    if not samples:
        raise BenchError(f"{' '.join(cmd)} printed no BENCH line")
    return samples


CALLGRIND_LABEL = re.compile(r"^desc: Trigger: Client Request: measure ops=(\d+)$", re.M)
CALLGRIND_TOTALS = re.compile(r"^totals: (\d+)", re.M)


@dataclasses.dataclass
class CallgrindRun:
    """What one run under callgrind measured in its bracketed section."""
    ops: int
    instructions: int
    by_object: dict                  # shared object or executable -> instructions executed in it
    stdout: str                      # the program's own output

    def sample(self):
        return Sample("instructions", "instr/op", self.instructions / self.ops)


def callgrind_measure(cmd, functions, timeout=900, env=None, options=()):
    """Runs `cmd` under callgrind and counts the instructions of its measured section (see
    bench/harness.h) that run inside `functions` and their callees.  The functions must not call
    each other: callgrind toggles collection on entering each, so a nested one would switch it off.
    `options` are more valgrind options; `env` the environment (LD_PRELOAD reaches the program)."""
    with tempfile.TemporaryDirectory(prefix="ferrite-callgrind-") as tmp:
        out = os.path.join(tmp, "callgrind.out")
        stdout = run_process(["valgrind", "--tool=callgrind", "--quiet", f"--callgrind-out-file={out}",
                              "--collect-atstart=no", *[f"--toggle-collect={f}" for f in functions], *options,
                              *cmd], timeout, env)
        runs = []
        for name in sorted(os.listdir(tmp)):
            with open(os.path.join(tmp, name)) as f:
                text = f.read()
            label = CALLGRIND_LABEL.search(text)
            if label:
                runs.append(CallgrindRun(int(label.group(1)), int(CALLGRIND_TOTALS.search(text).group(1)),
                                         instructions_by_object(text), stdout))
    if len(runs) != 1:
        raise BenchError(f"{' '.join(cmd)}: expected one measured section under callgrind, found {len(runs)}")
    if runs[0].instructions == 0:
        raise BenchError(f"{' '.join(cmd)}: no instruction inside {', '.join(functions)}: wrong function names?")
    return runs[0]


def run_callgrind(cmd, functions, timeout=900):
    """The instructions per operation of the measured section of `cmd`, inside `functions`."""
    return [callgrind_measure(cmd, functions, timeout).sample()]


CALLGRIND_NAMED = re.compile(r"^\((\d+)\)(?: (.*))?$")


def instructions_by_object(text):
    """The instructions of a callgrind dump, by the object they ran in (self cost: a call's
    inclusive cost, the line after "calls=", belongs to the callee's object and is skipped)."""
    names = {}
    totals = {}
    current = "?"
    after_call = False
    for line in text.split("\n"):
        if line.startswith(("ob=", "cob=")):
            # Compressed names: "(id) name" where the object first appears (as a caller or a
            # callee), "(id)" after.
            field = line.partition("=")[2]
            m = CALLGRIND_NAMED.match(field)
            if m and m.group(2):
                names[m.group(1)] = m.group(2)
            if line.startswith("ob="):
                current = names.get(m.group(1), "?") if m else field
        elif line.startswith("calls="):
            after_call = True
        elif line[:1].isdigit() or line[:1] in "+-*":
            if not after_call:
                fields = line.split()
                if len(fields) >= 2:
                    totals[current] = totals.get(current, 0) + int(fields[1])
            after_call = False
    return totals


# ---------------------------------------------------------------------------------------------
# Results and their statistics.

@dataclasses.dataclass
class Series:
    """Every round's value of one (benchmark, contestant, metric)."""
    group: str
    benchmark: str
    contestant: str
    metric: str
    unit: str
    values: dict = dataclasses.field(default_factory=dict)  # round -> value
    peer: Optional[str] = None

    @property
    def median(self):
        return statistics.median(self.values.values())

    @property
    def low(self):
        return min(self.values.values())

    @property
    def high(self):
        return max(self.values.values())


@dataclasses.dataclass
class Ratio:
    """A series divided by its peer's, round by round."""
    series: Series
    peer: Series
    values: list

    @property
    def median(self):
        return statistics.median(self.values)


class Results:
    def __init__(self):
        self.series = {}  # (group, benchmark, contestant, metric) -> Series, in order of arrival

    def add(self, group, case, round_index, samples):
        for s in samples:
            benchmark = s.benchmark or case.benchmark
            key = (group.name, benchmark, case.contestant, s.metric)
            series = self.series.get(key)
            if series is None:
                series = self.series[key] = Series(group.name, benchmark, case.contestant, s.metric, s.unit,
                                                   peer=case.peer)
            if series.unit != s.unit:
                raise BenchError(f"{benchmark} {s.metric}: unit {s.unit}, was {series.unit}")
            series.values[round_index] = s.value

    def of_group(self, group):
        """The group's series, benchmark by benchmark, contestants in order of arrival."""
        mine = [s for s in self.series.values() if s.group == group.name]
        benchmarks = list(dict.fromkeys(s.benchmark for s in mine))
        return sorted(mine, key=lambda s: benchmarks.index(s.benchmark))

    def ratio(self, group, series):
        """The series against its peer, if the group compares that metric."""
        if series.peer is None or (group.compare is not None and series.metric not in group.compare):
            return None
        return self.ratio_to(series, series.peer)

    def ratio_to(self, series, contestant):
        """The series divided by `contestant`'s values of the same benchmark and metric, round by
        round; None if that contestant has none."""
        peer = self.series.get((series.group, series.benchmark, contestant, series.metric))
        if peer is None:
            return None
        rounds = sorted(set(series.values) & set(peer.values))
        values = [series.values[r] / peer.values[r] for r in rounds if peer.values[r] != 0]
        return Ratio(series, peer, values) if values else None

    def find(self, group, benchmark, contestant, metric):
        """The series of (group, benchmark, contestant, metric), or None; `benchmark` may end in
        "*" to match any benchmark that starts with what is before it."""
        for (g, b, c, m), series in self.series.items():
            if (g, c, m) == (group, contestant, metric) and (
                    b == benchmark or (benchmark.endswith("*") and b.startswith(benchmark[:-1]))):
                return series
        return None


def target_for(group, series):
    for t in group.targets:
        if (t.benchmark, t.metric) == (series.benchmark, series.metric) and t.contestant in (None, series.contestant):
            return t
    return None


def judged_value(results, target, series):
    """What `target` judges of `series`: its median, or its median ratio to `target.versus`
    (None when that contestant did not run)."""
    if target.versus is None:
        return series.median
    ratio = results.ratio_to(series, target.versus)
    return ratio.median if ratio else None


def judged_text(target, series, value):
    if target.versus is None:
        return f"{fmt(value, series.unit)} {series.unit}"
    return f"{value:.2f}x {target.versus}"


# ---------------------------------------------------------------------------------------------
# Reports.

def fmt(value, unit=""):
    """Three significant digits or so; whole numbers of bytes and instructions stay whole."""
    if unit == "bytes":
        return f"{value:,.0f}"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}" if unit != "instr/op" or value == int(value) else f"{value:.1f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 0.1 or value == 0:
        return f"{value:.2f}"
    return f"{value:.3g}"


def verdict(target, value):
    """'met' or 'MISSED (2.1x)' for a value against a target."""
    if value is None:
        return f"not measured ({target.versus} did not run)"
    if value <= target.limit:
        return "met"
    return f"MISSED ({value / target.limit:.1f}x)"


def group_table(group, results):
    """The group's results as a Markdown table."""
    rows = ["| benchmark | contestant | metric | median | min - max | rounds | vs peer | target |",
            "| --- | --- | --- | ---: | ---: | ---: | --- | --- |"]
    for s in results.of_group(group):
        if len(s.values) > 1:
            spread = f"{fmt(s.low, s.unit)} - {fmt(s.high, s.unit)}"
        else:
            spread = "exact" if s.metric.startswith("instructions") else "-"
        ratio = results.ratio(group, s)
        vs = f"{ratio.median:.2f}x {ratio.peer.contestant}" if ratio else ""
        target = target_for(group, s)
        goal = f"{target.text}: {verdict(target, judged_value(results, target, s))}" if target else ""
        rows.append(f"| {s.benchmark} | {s.contestant} | {s.metric} | {fmt(s.median, s.unit)} {s.unit} | "
                    f"{spread} | {len(s.values)} | {vs} | {goal} |")
    return "\n".join(rows)


def target_rows(groups, results):
    """(target, series, judged value) for every measured series that has a target."""
    rows = []
    for group in groups:
        for s in results.of_group(group):
            t = target_for(group, s)
            if t:
                rows.append((t, s, judged_value(results, t, s)))
    return rows


def targets_section(groups, results):
    rows = target_rows(groups, results)
    if not rows:
        return ""
    lines = ["## Targets", "",
             "| benchmark | contestant | metric | target | median | verdict |",
             "| --- | --- | --- | --- | ---: | --- |"]
    for t, s, value in rows:
        shown = judged_text(t, s, value) if value is not None else "-"
        lines.append(f"| {s.benchmark} | {s.contestant} | {s.metric} | {t.text} | {shown} | {verdict(t, value)} |")
    missed = [(value / t.limit, t, s, value) for t, s, value in rows if value is not None and value > t.limit]
    lines.append("")
    if missed:
        gap, t, s, value = max(missed, key=lambda m: m[0])
        lines.append(f"Biggest gap: **{s.benchmark}, {s.metric}** ({s.contestant}): {judged_text(t, s, value)} "
                     f"against {t.text}, {gap:.1f}x over.")
    else:
        lines.append("Every target is met.")
    return "\n".join(lines) + "\n"


def write_csv(path, groups, results):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["group", "benchmark", "contestant", "metric", "unit", "median", "min", "max", "rounds"])
        for group in groups:
            for s in results.of_group(group):
                w.writerow([s.group, s.benchmark, s.contestant, s.metric, s.unit,
                            f"{s.median:.10g}", f"{s.low:.10g}", f"{s.high:.10g}", len(s.values)])
                ratios = [results.ratio(group, s)]
                target = target_for(group, s)
                if target and target.versus and target.versus != s.peer:   # a target's own ratio
                    ratios.append(results.ratio_to(s, target.versus))
                for ratio in filter(None, ratios):
                    w.writerow([s.group, s.benchmark, s.contestant, f"{s.metric} / {ratio.peer.contestant}", "ratio",
                                f"{ratio.median:.6g}", f"{min(ratio.values):.6g}", f"{max(ratio.values):.6g}",
                                len(ratio.values)])


# ---------------------------------------------------------------------------------------------
# Plots (gnuplot; matplotlib is not on the machine).

def gp_quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def plot_group(group, results, out_dir):
    """Writes <out_dir>/<group>.png; returns its path, or None if the group has no plot or
    gnuplot is missing."""
    if group.plot is None or shutil.which("gnuplot") is None:
        return None
    series = results.of_group(group)
    panels = [m for m in group.plot.metrics if any(s.metric == m for s in series)]
    if not panels:
        return None
    data_dir = os.path.join(out_dir, "plot-data")
    os.makedirs(data_dir, exist_ok=True)
    png = os.path.join(out_dir, f"{group.name}.png")
    script = ["set terminal pngcairo size 1100,%d font 'sans,10'" % (380 * len(panels)),
              f"set output {gp_quote(png)}",
              f"set multiplot layout {len(panels)},1 title {gp_quote(group.title)}",
              "set key outside right top", "set grid ytics", "set datafile missing '?'"]
    if group.plot.logy:
        script.append("set logscale y")
    for metric in panels:
        mine = [s for s in series if s.metric == metric]
        unit = mine[0].unit
        script.append(f"set ylabel {gp_quote(f'{metric} ({unit})')}")
        script += target_lines(group, metric, mine)
        if group.plot.kind == "bars":
            script += bar_panel(group, metric, mine, data_dir)
        else:
            script += line_panel(group, metric, mine, data_dir)
        script += ["unset arrow", "unset label"]
    script.append("unset multiplot")
    gp = os.path.join(data_dir, f"{group.name}.gp")
    with open(gp, "w") as f:
        f.write("\n".join(script) + "\n")
    p = subprocess.run(["gnuplot", gp], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise BenchError(f"gnuplot {gp}:\n{tail(p.stdout)}")
    return png


def target_lines(group, metric, series):
    """A dashed line at each target of the panel's metric, the y range stretched to show it.
    A target on a ratio to another contestant has no line: it is not on this axis."""
    targets = [t for t in group.targets if t.metric == metric and t.versus is None]
    if not targets:
        return ["set yrange [*:*]" if group.plot.logy else "set yrange [0:*]"]
    top = max(max(s.high for s in series), max(t.limit for t in targets)) * 1.3
    lines = [f"set yrange [{'*' if group.plot.logy else 0}:{top:.6g}]"]
    shown = {s.benchmark for s in series}
    for limit in sorted({t.limit for t in targets}):
        mine = [t for t in targets if t.limit == limit]
        text = f"target {mine[0].text}"
        if {t.benchmark for t in mine} != shown:
            text += f" ({', '.join(t.benchmark for t in mine)})"
        if mine[0].contestant:
            text += f", {mine[0].contestant}"
        y = f"first {limit:.6g}"
        lines += [f"set arrow from graph 0, {y} to graph 1, {y} nohead dt 2 lw 2 lc rgb 'red'",
                  f"set label {gp_quote(text)} at graph 0.99, {y} right offset 0,0.7 tc rgb 'red'"]
    return lines


def bar_panel(group, metric, series, data_dir):
    """Clustered bars: one cluster per benchmark, one bar per contestant, whiskers min to max."""
    benchmarks = list(dict.fromkeys(s.benchmark for s in series))
    contestants = list(dict.fromkeys(s.contestant for s in series))
    by_key = {(s.benchmark, s.contestant): s for s in series}
    path = os.path.join(data_dir, f"{group.name}-{slug(metric)}.dat")
    with open(path, "w") as f:
        for b in benchmarks:
            cells = [gp_quote(b)]
            for c in contestants:
                s = by_key.get((b, c))
                cells += [f"{s.median:.6g}", f"{s.low:.6g}", f"{s.high:.6g}"] if s else ["?", "?", "?"]
            f.write(" ".join(cells) + "\n")
    plots = []
    for i, c in enumerate(contestants):
        col = 2 + 3 * i
        using = f"{col}:{col + 1}:{col + 2}" + (":xtic(1)" if i == 0 else "")
        plots.append(f"{gp_quote(path) if i == 0 else gp_quote('')} using {using} title {gp_quote(c)}")
    return ["set style data histograms", "set style histogram errorbars gap 2 lw 1",
            "set style fill solid 0.7 border -1", "set boxwidth 0.9", "set xtics rotate by -15 scale 0",
            "unset xlabel", "plot " + ", ".join(plots)]


def line_panel(group, metric, series, data_dir):
    """One line per contestant through its medians, error bars min to max, log-log."""
    contestants = list(dict.fromkeys(s.contestant for s in series))
    plots = []
    for c in contestants:
        points = sorted((group.plot.x[s.benchmark], s) for s in series if s.contestant == c)
        path = os.path.join(data_dir, f"{group.name}-{slug(metric)}-{slug(c)}.dat")
        with open(path, "w") as f:
            for x, s in points:
                f.write(f"{x:.6g} {s.median:.6g} {s.low:.6g} {s.high:.6g}\n")
        plots.append(f"{gp_quote(path)} using 1:2:3:4 with yerrorlines title {gp_quote(c)}")
    return ["set style data lines", "set logscale x", "set logscale y", "set xtics rotate by 0",
            f"set xlabel {gp_quote(group.plot.xlabel)}", "plot " + ", ".join(plots)]


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
