"""In-kernel benchmarks: ferrite booted in QEMU with `kbench` on its command line (kernel/kbench.c),
once per heap design, BIOS, 128 MiB, and `-icount shift=0`.  With icount QEMU advances the guest's
clock, and with it rdtsc, by exactly one tick per guest instruction, so kbench's "ticks per op" are
guest instructions per operation: exact, the same on any host, and one boot is enough.

kbench prints "kbench: NAME TICKS ticks/op over N ops" for each benchmark and exits QEMU with
status 33.  Each boot must also name the heap design it was asked for.  Benchmarks whose name starts
with "k" (kmalloc, kfree, ...) depend on the heap design and are taken from every boot, as one
benchmark per design; the others (frames, paging, boot) from the slab heap's boot only.
The contestants are the compilers, as on the host: "ferrite (gcc)", "ferrite (clang)".
"""
import os
import re
import subprocess
import sys

from benchlib import BenchError, Case, Group, Plot, Sample, fmt, tail

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
import qemu  # noqa: E402

# The boots in turn; the last, the default design's, also reports what does not depend on the heap,
# so that the table lists the heap's rows together, then the rest.
DESIGNS = ["fixed", "list", "bump", "slab"]
MEM = "128M"
ICOUNT = ["-icount", "shift=0"]
BOOT_TIMEOUT = 120

KBENCH_LINE = re.compile(r"^kbench: (\S+) (\d+(?:\.\d+)?) ticks/op over (\d+) ops", re.M)
HEAP_LINE = re.compile(r"^kbench: heap=(\S+)", re.M)

# kbench's names -> the table's benchmarks.  A name not here (kbench.c grew) is shown as it is.
LABELS = {
    "boot_to_kmain": "boot: 32-bit entry to kmain",
    "kmalloc+kfree(64)": "kmalloc+kfree 64 B",
    "frame_alloc+free": "frame alloc+free 4 KiB (cache)",
    "frame_alloc(zeroed)+free": "frame alloc (zeroed)+free 4 KiB",
    "map+unmap_4k": "map+unmap 4 KiB (invlpg)",
    "translate": "translate (direct map: 2 MiB page)",
}


def heap_dependent(name):
    return name.startswith("k")


def contestant(compiler):
    return f"ferrite ({compiler.name})"


def benchmark_label(name, design):
    """The table's benchmark for kbench's `name` in a boot with heap=`design`."""
    label = LABELS.get(name, name)
    return f"{label} ({design} heap)" if heap_dependent(name) else label


def boot(iso):
    """The serial log of one kbench boot, which must end in kbench's success exit."""
    cmd = qemu.command(iso, mem=MEM, firmware="bios", extra=ICOUNT)
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                           timeout=BOOT_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(cmd)}: no exit after {BOOT_TIMEOUT} s")
    if p.returncode != qemu.EXIT_SUCCESS:
        raise BenchError(f"{' '.join(cmd)}: {qemu.verdict(p.returncode)}:\n{tail(p.stdout)}")
    return p.stdout


def samples_of(log, design, everything):
    """The boot's measurements, the heap's first; all of them if `everything`, else the heap's only."""
    samples = []
    lines = sorted(KBENCH_LINE.findall(log), key=lambda line: not heap_dependent(line[0]))
    for name, ticks, ops in lines:
        if not (everything or heap_dependent(name)):
            continue
        label = benchmark_label(name, design)
        if int(ops) == 1:   # a one-off: the boot
            samples.append(Sample("instructions, total", "instr", float(ticks), label))
        else:
            samples.append(Sample("instructions", "instr/op", float(ticks), label))
    return samples


def run_boot(iso, design, everything):
    log = boot(iso)
    m = HEAP_LINE.search(log)
    if not m or m.group(1) != design:
        raise BenchError(f"asked for heap={design}, the kernel says {m.group(1) if m else 'nothing'}:\n{tail(log)}")
    samples = samples_of(log, design, everything)
    if not samples or "kbench: done" not in log:
        raise BenchError(f"heap={design}: kbench did not finish:\n{tail(log)}")
    return samples


def kernel_isos(env, compiler):
    """The kernel built from the tree as it is now, and an ISO per heap design."""
    env.make("kernel", compiler=compiler)
    elf = os.path.join(env.root, compiler.build, "ferrite.elf")
    cache = os.path.join(env.root, compiler.build, "bench", "iso")
    try:
        return {d: qemu.iso_for(elf, f"kbench heap={d}", cache) for d in DESIGNS}
    except (OSError, subprocess.CalledProcessError) as e:
        raise BenchError(f"building the kbench ISOs: {e}")


# (what, kernel benchmark, host group, host benchmark, host contestant) for the operations the host
# groups also count.  "*": any benchmark that starts so.
SAME_OPERATION = [
    ("kmalloc+kfree 64 B / malloc+free 8-256 B", benchmark_label("kmalloc+kfree(64)", "slab"),
     "heap_churn", "churn*", "ferrite slab"),
    ("frame alloc+free, 4 KiB, from the cache", LABELS["frame_alloc+free"],
     "frame_ops", "alloc+free 4 KiB (cache)", "ferrite (gcc)"),
    ("translate, 2 MiB page", LABELS["translate"], "paging", "translate 2 MiB page", "ferrite (gcc)"),
    ("map+unmap 4 KiB", LABELS["map+unmap_4k"], "paging", "map+unmap 4 KiB*", "ferrite (gcc)"),
]


def host_comparison(compiler):
    """A note: the kernel's counts next to the host's callgrind counts of the same operation."""
    def note(results):
        rows = ["| operation | kernel (guest instructions) | host (callgrind) | kernel / host |",
                "| --- | ---: | ---: | ---: |"]
        for what, benchmark, group, host_benchmark, host_contestant in SAME_OPERATION:
            kernel = results.find("kernel", benchmark, contestant(compiler), "instructions")
            host = results.find(group, host_benchmark, host_contestant, "instructions")
            if kernel and host:
                rows.append(f"| {what} | {fmt(kernel.median, 'instr/op')} | {fmt(host.median, 'instr/op')} | "
                            f"{kernel.median / host.median:.2f}x |")
        if len(rows) == 2:
            return ""
        return ("\nThe same operations on the host (gcc builds; the host groups must have run too). The "
                "kernel's heap zero-fills every object, which keeps kmalloc off the slab's inline path, and "
                "takes a lock that saves and masks interrupts; the host's malloc does neither, and skips its "
                "lock while the process has one thread. The kernel unmaps with `invlpg` and keeps its page table "
                "between rounds; the host has no TLB and frees a table every 512 pages. kbench's counts "
                "also hold its calling wrapper (docs/performance.md).\n\n" + "\n".join(rows))
    return note


def groups(env):
    compilers = env.compilers[:1] if env.quick else env.compilers
    peer = contestant(compilers[0])
    isos = {compiler.name: kernel_isos(env, compiler) for compiler in compilers}
    cases = []
    for design in DESIGNS:   # the compilers take turns, as on the host
        for compiler in compilers:
            iso = isos[compiler.name][design]
            cases.append(Case(benchmark_label("kmalloc+kfree(64)", design), contestant(compiler),
                              lambda iso=iso, d=design: run_boot(iso, d, d == DESIGNS[-1]), rounds=1,
                              peer=peer if compiler is not compilers[0] else None))
    return [Group(
        name="kernel",
        title="In the kernel: guest instructions per operation (QEMU, -icount shift=0)",
        about=f"ferrite booted with `kbench heap=<design>` in QEMU (BIOS, {MEM}) with `-icount shift=0`, so that "
              "rdtsc counts guest instructions: exact, and the same on any host. kbench (kernel/kbench.c) "
              "runs each operation 20,000 times after one warm-up call and subtracts an empty loop of the same "
              "calls. *kmalloc+kfree* goes through the kernel's heap lock (interrupts masked) and zero-fills; "
              "*map+unmap* maps one page next to a mapped one (its table stays) and unmaps it with `invlpg`; "
              "*translate* walks the direct map. *boot* counts from the 32-bit entry to kmain, once."
              + ("" if len(compilers) > 1 else " (Quick run: the gcc kernel only.)"),
        cases=cases,
        plot=Plot("bars", ["instructions"], logy=True),
        notes=[host_comparison(compilers[0])])]
