#!/usr/bin/env python3
"""make bench: ferrite's benchmarks, measured in rounds and reported.

Each group's cases run once per round, contestants interleaved (A B C A B C ...); a result is the
median over the rounds with its min and max, and, where a case has a peer, the median of the
per-round ratios to it.  Wall-clock times are noisy (a shared 2-core machine); instruction counts
from callgrind are exact and measured once.

Prints Markdown tables as each group finishes, with a progress line while it runs, and writes
  <build>/bench/results.md    the tables, the targets and the machine
  <build>/bench/results.csv   one row per measurement (ratios to a peer are rows of unit "ratio")
  <build>/bench/<group>.png   a plot per group (gnuplot)
Exit status 1 if any case failed (the others are still reported).

Options: --quick          tiny sizes and two rounds: keeps the benchmarks working, measures nothing
         --rounds N       rounds per group (default 7, or 2 with --quick)
         --only G[,G]     run only these groups
         --build DIR      the gcc build directory (default build); clang builds in DIR/clang
         --no-clang       gcc only

Adding benchmarks: write a module in bench/ with `groups(env) -> list[Group]` (see benchlib.py
for Group and Case, and host_mm.py for an example) and add its name to GROUP_MODULES.
"""
import argparse
import datetime
import importlib
import os
import platform
import shutil
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import benchlib  # noqa: E402
from benchlib import BenchError, Compiler, Env, Results  # noqa: E402

# host_mm: frames and paging on the host; heap: malloc workloads against other allocators;
# kernel: kbench in QEMU (its notes compare with the host groups, so it comes last).
GROUP_MODULES = ["host_mm", "heap", "kernel"]


def command_output(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    except OSError:
        return ""


def compiler_version(cc):
    version = command_output([cc, "-dumpfullversion"]).strip() or command_output([cc, "-dumpversion"]).strip()
    return f"{cc} {version or '?'}"


def cpu_description():
    """lscpu's model name, with family and model (the name alone can be as vague as "AMD EPYC")
    and the hypervisor, if any."""
    fields = {}
    for line in command_output(["lscpu"]).split("\n"):
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    text = fields.get("Model name") or platform.processor() or "unknown"
    if "CPU family" in fields:
        text += f" (family {fields['CPU family']}, model {fields.get('Model', '?')})"
    if "Hypervisor vendor" in fields:
        text += f", a {fields['Hypervisor vendor']} guest"
    return text


def machine_lines(env, rounds):
    now = datetime.datetime.now().astimezone()
    valgrind = command_output(["valgrind", "--version"]).strip().replace("-", " ", 1) if env.valgrind else ""
    return [f"- date: {now:%Y-%m-%d %H:%M %Z}",
            f"- CPU: {cpu_description()}, {os.cpu_count()} cores",
            f"- compilers: {', '.join(c.version for c in env.compilers)}, -O2 (Makefile BENCH_CFLAGS)",
            f"- {valgrind or 'no valgrind: no instruction counts'}",
            f"- mode: {'QUICK (tiny sizes: not measurements)' if env.quick else 'full'}, {rounds} rounds"]


class Progress:
    """One line, rewritten in place on a terminal; on a log, a line per benchmark and round."""

    def __init__(self, total):
        self.total = total
        self.done = 0
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self.last = None

    def show(self, group, round_index, rounds, case):
        self.done += 1
        elapsed = time.monotonic() - self.started
        text = (f"[{self.done:3d}/{self.total}] {elapsed:5.0f} s  {group.name} round {round_index + 1}/{rounds}: "
                f"{case.benchmark} - {case.contestant}")
        if self.tty:
            sys.stderr.write("\r\033[K" + text[:shutil.get_terminal_size().columns - 1])
            sys.stderr.flush()
        elif (group.name, round_index, case.benchmark) != self.last:
            self.last = (group.name, round_index, case.benchmark)
            print(text, file=sys.stderr, flush=True)

    def clear(self):
        if self.tty:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def takes_part(case, round_index):
    return case.rounds is None or round_index < case.rounds


def run_group(group, rounds, results, progress):
    """Runs the group's cases round by round; returns the failures as text."""
    failures = []
    broken = set()
    for r in range(rounds):
        for i, case in enumerate(group.cases):
            if not takes_part(case, r):
                continue
            progress.show(group, r, rounds, case)
            if i in broken:
                continue
            try:
                results.add(group, case, r, case.run())
            except BenchError as e:
                broken.add(i)
                failures.append(f"{group.name}: {case.benchmark} - {case.contestant}: {e}")
    return failures


def group_markdown(group, results, png):
    lines = [f"## {group.title}", "", group.about, "", benchlib.group_table(group, results), ""]
    lines += [note(results) if callable(note) else note for note in group.notes]
    if png:
        lines += ["", f"![{group.title}]({os.path.basename(png)})"]
    return "\n".join(lines).rstrip() + "\n"


def make_env(args):
    compilers = [Compiler("gcc", compiler_version("gcc"), args.build)]
    if not args.no_clang and shutil.which("clang"):
        compilers.append(Compiler("clang", compiler_version("clang"), os.path.join(args.build, "clang")))
    return Env(root=ROOT, build=args.build, out=os.path.join(ROOT, args.build, "bench"), quick=args.quick,
               compilers=compilers, valgrind=shutil.which("valgrind") is not None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--only", default="")
    ap.add_argument("--build", default="build")
    ap.add_argument("--no-clang", action="store_true")
    args = ap.parse_args()
    rounds = args.rounds or (2 if args.quick else 7)
    env = make_env(args)
    os.makedirs(env.out, exist_ok=True)

    groups = []
    failures = []
    for name in GROUP_MODULES:   # a module that cannot build is a failure; the others still run
        print(f"bench: building {name} ...", file=sys.stderr, flush=True)
        try:
            groups += importlib.import_module(name).groups(env)
        except BenchError as e:
            failures.append(f"{name}: {e}")
            print(f"bench: {name}: {e}", file=sys.stderr)
    only = [g for g in args.only.split(",") if g]
    unknown = set(only) - {g.name for g in groups}
    if unknown:
        print(f"bench: no group {', '.join(sorted(unknown))}; there are {', '.join(g.name for g in groups)}",
              file=sys.stderr)
        return 2
    groups = [g for g in groups if not only or g.name in only]

    results = Results()
    progress = Progress(sum(1 for g in groups for c in g.cases for r in range(rounds) if takes_part(c, r)))
    sections = []
    for group in groups:
        failures += run_group(group, rounds, results, progress)
        progress.clear()
        try:
            png = benchlib.plot_group(group, results, env.out)
        except BenchError as e:
            failures.append(f"{group.name}: plot: {e}")
            png = None
        section = group_markdown(group, results, png)
        sections.append(section)
        print(section, flush=True)

    targets = benchlib.targets_section(groups, results)
    print(targets)
    report = ["# ferrite benchmarks", "", *machine_lines(env, rounds), "",
              "Medians over rounds (min - max); instruction counts are exact. docs/performance.md explains "
              "every number.", "", targets, *sections]
    with open(os.path.join(env.out, "results.md"), "w") as f:
        f.write("\n".join(report))
    benchlib.write_csv(os.path.join(env.out, "results.csv"), groups, results)
    print(f"bench: wrote {os.path.relpath(env.out, ROOT)}/results.md, results.csv and the plots", file=sys.stderr)
    for failure in failures:
        print(f"bench: FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
