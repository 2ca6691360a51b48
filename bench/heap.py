"""Heap benchmarks on the host: one workload program (bench/bench_heap.c, see its comment for what
each workload does), built once with gcc at -O2 and run against every allocator:

  ferrite <design>   build/host/libferrite_malloc.so through LD_PRELOAD, FERRITE_HEAP=<design>
  glibc              the C library's own malloc: no preload
  jemalloc, mimalloc, tcmalloc
                     Debian's packages (bash tools/deps.sh bench installs them), through LD_PRELOAD

Every run proves who served it: the program prints the object that its malloc resolves to, and
the driver checks it.  Under callgrind the driver also checks where the counted instructions ran:
in libc.so.6 for glibc, outside it for a preloaded allocator, and never in a valgrind preload (the
--soname-synonyms options keep valgrind from replacing malloc; callgrind does not replace it
anyway, and the check makes sure).
"""
import dataclasses
import os
import re
import subprocess
from typing import Optional

from benchlib import BenchError, Case, Group, Plot, Sample, Target, callgrind_measure, parse_bench_lines, run_process
from host_mm import size_text

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30

PEER = "mimalloc"       # every ratio is to mimalloc, round by round
SLAB = "ferrite slab"   # the default design: the one the targets are for

# (contestant, Debian package, soname) of the allocators ferrite is measured against.
SYSTEM_ALLOCATORS = [("jemalloc", "libjemalloc2", "libjemalloc.so.2"),
                     ("mimalloc", "libmimalloc2.0", "libmimalloc.so.2"),
                     ("tcmalloc", "libtcmalloc-minimal4", "libtcmalloc_minimal.so.4")]

# The counted section of the churn workload: what runs inside malloc and free, callees included.
COUNTED = ["malloc", "free"]


@dataclasses.dataclass(frozen=True)
class Allocator:
    name: str                        # the contestant
    library: Optional[str] = None    # preloaded; None: glibc's own malloc
    design: Optional[str] = None     # FERRITE_HEAP, for libferrite_malloc.so

    def environ(self):
        env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FERRITE_HEAP", "FERRITE_HEAP_DEBUG")}
        if self.library:
            env["LD_PRELOAD"] = self.library
        if self.design:
            env["FERRITE_HEAP"] = self.design
        return env

    def valgrind_options(self):
        """Valgrind must not put its own malloc in place of the one under test."""
        return [f"--soname-synonyms=somalloc={'nouserintercepts' if self.library else 'NONE'}"]

    def check_provider(self, stdout):
        """The program's ALLOCATOR line must name the object under test."""
        m = re.search(r"^ALLOCATOR\t(.+)$", stdout, re.M)
        if not m:
            raise BenchError(f"{self.name}: the workload did not say which object its malloc comes from")
        provider = m.group(1)
        if self.library is None:
            ok = os.path.basename(provider).startswith("libc.so")
        else:
            ok = os.path.realpath(provider) == os.path.realpath(self.library)
        if not ok:
            raise BenchError(f"{self.name}: malloc came from {provider}, not {self.library or 'libc.so.6'}")

    def check_counted(self, by_object):
        """Under callgrind, the counted instructions must have run in the allocator under test."""
        total = sum(by_object.values()) or 1
        valgrind = [o for o in by_object if os.path.basename(o).startswith("vgpreload")]
        if valgrind:
            raise BenchError(f"{self.name}: valgrind's own malloc ran ({', '.join(valgrind)})")
        in_libc = sum(n for o, n in by_object.items() if os.path.basename(o).startswith("libc.so")) / total
        if self.library is None and in_libc < 0.95:
            raise BenchError(f"glibc: only {in_libc:.0%} of the counted instructions ran in libc.so.6")
        if self.library is not None and in_libc > 0.05:
            raise BenchError(f"{self.name}: {in_libc:.0%} of the counted instructions ran in libc.so.6, "
                             f"not in {self.library}")


def package_library(package, soname):
    """The path of `soname` in the installed Debian package, or None if it is not installed."""
    try:
        files = subprocess.run(["dpkg", "-L", package], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True).stdout.split("\n")
    except OSError:
        return None
    return next((f for f in files if os.path.basename(f) == soname and os.path.exists(f)), None)


def allocators(ferrite_lib):
    """Every allocator there is, by name, and the notes on those that are not."""
    found = {f"ferrite {d}": Allocator(f"ferrite {d}", ferrite_lib, d) for d in ("slab", "fixed", "list", "bump")}
    found["glibc"] = Allocator("glibc")
    missing = []
    for name, package, soname in SYSTEM_ALLOCATORS:
        path = package_library(package, soname)
        if path:
            found[name] = Allocator(name, path)
        else:
            missing.append(f"{name} ({package})")
    notes = [f"Not measured, not installed: {', '.join(missing)}. `bash tools/deps.sh bench` installs them."] \
        if missing else []
    return found, notes


def line_up(found, ferrite_designs):
    """The contestants of a workload, in the order the rounds run them: ferrite's designs first."""
    names = [f"ferrite {d}" for d in ferrite_designs] + ["glibc"] + [n for n, _, _ in SYSTEM_ALLOCATORS]
    return [found[n] for n in names if n in found]


def peer_of(allocator):
    return PEER if allocator.name != PEER else None


def run_workload(allocator, cmd, timeout=1800):
    """One native run: the samples, once the run has shown that `allocator` served it."""
    out = run_process(cmd, timeout, allocator.environ())
    allocator.check_provider(out)
    samples = parse_bench_lines(out)
    if not samples:
        raise BenchError(f"{' '.join(cmd)} printed no BENCH line")
    return samples


def count_workload(allocator, cmd):
    """Instructions per operation inside malloc and free, checked to be the allocator's."""
    run = callgrind_measure(cmd, COUNTED, env=allocator.environ(), options=allocator.valgrind_options())
    allocator.check_provider(run.stdout)
    allocator.check_counted(run.by_object)
    return [run.sample()]


def timed_cases(label, lineup, cmd):
    return [Case(label, a.name, lambda a=a: run_workload(a, cmd), peer=peer_of(a)) for a in lineup]


def churn(env, program, found, notes):
    p = env.pick
    ops, counted_ops = p(10_000_000, 100_000), p(200_000, 10_000)
    # The list design's pair is some 40,000 instructions (a first-fit walk): fewer of them under callgrind.
    counted_list_ops = p(20_000, 1_000)
    label = "churn, 8-256 B, 10,000 live"
    lineup = line_up(found, ["slab", "fixed", "list"])
    cases = timed_cases(label, lineup, [program, "churn", "--ops", str(ops)])
    if env.valgrind:
        for a in lineup:
            cmd = [program, "churn", "--ops", str(counted_list_ops if a.design == "list" else counted_ops)]
            cases.append(Case(label, a.name, lambda a=a, cmd=cmd: count_workload(a, cmd), rounds=1, peer=peer_of(a)))
    return Group(
        name="heap_churn",
        title="Heap: small-object churn",
        about=f"{ops:,} operations, each a `free` of a random one of 10,000 live objects and a `malloc` of "
              "8-256 B (uniform) in its place, after a warm-up of as many (at most 100,000); the same sequence "
              "(a fixed seed) for every allocator. *time* is wall-clock per free+malloc pair. *instructions* "
              "are those executed inside `malloc` and `free` (callees included) per pair, over "
              f"{counted_ops:,} pairs under callgrind ({counted_list_ops:,} for the list design). Ratios are "
              "to mimalloc, round by round.",
        cases=cases,
        targets=[Target(label, "instructions", 40, "<= 40 instr", contestant=SLAB),
                 Target(label, "time", 0.9, "<= 0.9x mimalloc", contestant=SLAB, versus=PEER)],
        plot=Plot("bars", ["time", "instructions"], logy=True),
        notes=notes)


def realloc(env, program, found, notes):
    ops = env.pick(2_000_000, 20_000)
    label = "realloc growth, 16 B-64 KiB"
    return Group(
        name="heap_realloc",
        title="Heap: realloc growth",
        about=f"{ops:,} steps over 1,000 vectors and 1,000 other objects. Three steps in four grow a random "
              "vector by half with `realloc`, from 16 B up to its final size (uniform in 16 B-64 KiB), and "
              "write the bytes added; a vector at its final size is freed and starts again. One step in four "
              "frees a random other object and `malloc`s one of 16 B-64 KiB. Every realloc is checked to keep "
              "the contents. *time* is wall-clock per step.",
        cases=timed_cases(label, line_up(found, ["slab", "fixed", "list"]), [program, "realloc", "--ops", str(ops)]),
        targets=[Target(label, "time", 1.0, "<= 1.0x tcmalloc", contestant=SLAB, versus="tcmalloc")],
        plot=Plot("bars", ["time"], logy=True),
        notes=notes)


def xthread(env, program, found, notes):
    ops = env.pick(4_000_000, 20_000)
    label = "cross-thread frees, 8-256 B"
    return Group(
        name="heap_xthread",
        title="Heap: cross-thread frees",
        about=f"Two threads allocate {ops:,} objects of 8-256 B between them, in batches of 256; each batch "
              "goes to the other thread (a ring of 4 batches each way), which frees it. So every object is "
              "freed by the thread that did not allocate it. *time* is wall-clock for the whole run over the "
              "objects: one op is one malloc in one thread plus its free in the other.",
        cases=timed_cases(label, line_up(found, ["slab", "fixed", "list"]), [program, "xthread", "--ops", str(ops)]),
        plot=Plot("bars", ["time"], logy=True),
        notes=notes)


def rss_phases(total):
    """The workload's metric names -> (benchmark, metric) of the table."""
    return {
        "RSS at start": ("at start", "RSS"),
        "RSS small objects allocated": (f"{size_text(total)} in 16 B-4 KiB objects", "RSS"),
        "RSS every other freed": ("every other object freed", "RSS"),
        "RSS blocks allocated": (f"+{size_text(total // 2)} in 8-32 KiB blocks", "RSS"),
        "RSS everything freed": ("everything freed", "RSS"),
        "RSS peak": ("peak", "RSS"),
        "RSS everything freed, share of peak": ("everything freed", "share of peak"),
    }


def run_rss(allocator, cmd, phases):
    samples = []
    for s in run_workload(allocator, cmd):
        if s.metric in phases:
            benchmark, metric = phases[s.metric]
            samples.append(Sample(metric, s.unit, s.value, benchmark))
    if len(samples) != len(phases):
        raise BenchError(f"{allocator.name}: the rss workload reported {len(samples)} of {len(phases)} phases")
    return samples


def rss(env, program, found, notes):
    total = env.pick(GIB, 16 * MIB)
    phases = rss_phases(total)
    cmd = [program, "rss", "--size", str(total)]
    lineup = line_up(found, ["slab", "bump"])
    return Group(
        name="heap_rss",
        title="Heap: fragmentation and giving memory back",
        about=f"Allocate {size_text(total)} in objects of 16 B-4 KiB (uniform), free every other one, allocate "
              f"{size_text(total // 2)} more in blocks of 8-32 KiB, then free everything. Every object is "
              "written (a byte per page), so the pages are resident. *RSS* is the process's resident memory "
              "at the start and after each phase (`/proc/self/statm`); *peak* is the most it had (`getrusage`, "
              "or the reading after the third phase if that is higher). *share of peak* "
              "is what is still resident after everything was freed: an allocator that gives memory back has "
              "little. The program's own arrays come from `mmap` and are unmapped before the last reading.",
        # Each sample names its own benchmark (the phase); the case's is the first phase.
        cases=[Case(phases["RSS at start"][0], a.name, lambda a=a: run_rss(a, cmd, phases),
                    peer=peer_of(a)) for a in lineup],
        targets=[Target("everything freed", "share of peak", 10, "< 10 % of peak", contestant=SLAB)],
        compare=["RSS"],
        plot=Plot("bars", ["RSS", "share of peak"]),
        notes=notes + ["ferrite's list and fixed designs are not run here: their first-fit search over the "
                       "hundreds of thousands of holes the first phases leave makes the third phase quadratic "
                       "(64 MiB takes 6 s, so 1 GiB would take about half an hour)."])


def groups(env):
    gcc = env.compilers[0]
    program = os.path.join(gcc.build, "bench", "bin", "bench_heap")
    ferrite_lib = os.path.join(gcc.build, "host", "libferrite_malloc.so")
    env.make(program, ferrite_lib, compiler=gcc)   # what is in the tree now, whoever changed it
    program, ferrite_lib = os.path.join(env.root, program), os.path.join(env.root, ferrite_lib)
    found, notes = allocators(ferrite_lib)
    return [churn(env, program, found, notes), realloc(env, program, found, notes),
            xthread(env, program, found, notes), rss(env, program, found, notes)]
