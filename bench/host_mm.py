"""The host benchmarks of the memory model: the frame allocator and the mapper, built with each
compiler from bench/bench_frame.c and bench/bench_paging.c (see the comments there for what each
benchmark does), timed natively and counted under callgrind.
"""
import os

from benchlib import Case, Group, Plot, Target, run_callgrind, run_native

KIB, MIB, GIB, TIB = 1 << 10, 1 << 20, 1 << 30, 1 << 40

# What callgrind counts for each binary's benchmarks: the API calls in the measured loop.
FRAME_CALLS = ["frame_alloc", "frame_free"]
TRANSLATE_CALLS = ["paging_translate"]
MAP_CALLS = ["paging_map", "paging_unmap"]


def binary(env, compiler, name):
    return os.path.join(env.root, compiler.build, "bench", "bin", name)


def contestant(compiler):
    return f"ferrite ({compiler.name})"


def options(ops=None, size=None):
    return (["--ops", str(ops)] if ops else []) + (["--size", str(size)] if size else [])


def size_text(size):
    for unit, name in ((TIB, "TiB"), (GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} bytes"


def timed_and_counted(env, bench_bin, label, name, calls, ops, count_ops, size=None, count_size=None):
    """For each compiler: a timed case every round and, if callgrind is there, a counted case
    once (instruction counts are exact).  The first compiler is every other one's peer."""
    cases = []
    peer = contestant(env.compilers[0])
    for i, cc in enumerate(env.compilers):
        cmd = [binary(env, cc, bench_bin), name]
        cases.append(Case(label, contestant(cc), lambda cmd=cmd: run_native(cmd + options(ops, size)),
                          peer=peer if i else None))
    if env.valgrind and count_ops:
        for i, cc in enumerate(env.compilers):
            cmd = [binary(env, cc, bench_bin), name] + options(count_ops, count_size or size)
            cases.append(Case(label, contestant(cc), lambda cmd=cmd: run_callgrind(cmd, calls), rounds=1,
                              peer=peer if i else None))
    return cases


def frame_ops(env):
    p = env.pick
    benchmarks = [
        ("alloc+free 4 KiB (cache)", "pair_4k", p(20_000_000, 200_000), p(100_000, 10_000)),
        ("256 allocs, 256 frees, 4 KiB", "batch_4k", p(10_000_000, 100_000), p(256_000, 25_600)),
        ("alloc+free 2 MiB (free on its list)", "pair_2m", p(20_000_000, 200_000), p(100_000, 10_000)),
        ("alloc+free 2 MiB (split from 1 GiB)", "pair_2m_split", p(5_000_000, 50_000), p(50_000, 5_000)),
    ]
    cases = []
    for label, name, ops, count_ops in benchmarks:
        cases += timed_and_counted(env, "bench_frame", label, name, FRAME_CALLS, ops, count_ops)
    return Group(
        name="frame_ops",
        title="Frame allocator: alloc and free",
        about="One operation is an alloc+free pair (`frame_alloc` then `frame_free`, `FRAME_UNINIT`), "
              "in steady state after a warm-up, over simulated memory (`host/support/simmem`). "
              "*time* is wall-clock per pair; *instructions* are those executed inside "
              "`frame_alloc` and `frame_free` (callees included), counted by callgrind, per pair.",
        cases=cases,
        targets=[Target("alloc+free 4 KiB (cache)", "instructions", 30, "<= 30 instr")],
        plot=Plot("bars", ["time", "instructions"]),
        notes=["The 128 MiB map of the init benchmark is used, except for the split case: one free "
               "GiB whose every 2 MiB alloc splits it nine times and whose free merges it back."])


INIT_MAPS = [("128 MiB map", "128M", 128 * MIB), ("16 GiB map", "16G", 16 * GIB), ("1 TiB map", "1T", TIB)]


def frame_init(env):
    builds = env.pick(200, 5)
    cases = []
    peer = contestant(env.compilers[0])
    for label, size, _ in INIT_MAPS:
        for i, cc in enumerate(env.compilers):
            cmd = [binary(env, cc, "bench_frame"), "init"] + options(builds, size)
            cases.append(Case(label, contestant(cc), lambda cmd=cmd: run_native(cmd), peer=peer if i else None))
    if env.valgrind:
        # valgrind cannot reserve the terabyte of simulated memory: no count for that map.
        for label, size, ram in INIT_MAPS:
            if ram > 64 * GIB:
                continue
            for i, cc in enumerate(env.compilers):
                cmd = [binary(env, cc, "bench_frame"), "init"] + options(3, size)
                cases.append(Case(label, contestant(cc), lambda cmd=cmd: run_callgrind(cmd, ["frame_init"]),
                                  rounds=1, peer=peer if i else None))
    return Group(
        name="frame_init",
        title="Frame allocator: building it from a memory map",
        about="`frame_init` over memory maps with holes: reserved gaps, ACPI ranges inside RAM, usable "
              "edges on odd and byte-unaligned addresses, normalized by `memmap_normalize` (not timed). "
              "*first build* is the first `frame_init` in a fresh process: it includes the host's page "
              "faults on the simulated memory it writes, which real RAM does not have. *time* is the "
              "mean of the builds after it over the same memory (warm caches, no faults). *metadata* is "
              "what the allocator carves from RAM for itself; its *share* is of the usable RAM in the map.",
        cases=cases,
        targets=[Target("1 TiB map", "time", 5000, "< 5 ms"),
                 Target("1 TiB map", "first build", 5000, "< 5 ms")] +
                [Target(label, "metadata share", 0.1, "<= 0.1 %") for label, _, _ in INIT_MAPS],
        compare=["first build", "time", "instructions"],
        plot=Plot("lines", ["first build", "time"], logy=True, xlabel="RAM in the map (GiB)",
                  x={label: ram / GIB for label, _, ram in INIT_MAPS}),
        notes=["No instruction count for the 1 TiB map: valgrind cannot reserve a terabyte of simulated memory."]
        if env.valgrind else [])


def frame_growth(env):
    sizes = env.pick([10 ** 3, 10 ** 4, 10 ** 5, 10 ** 6], [10 ** 2, 10 ** 3, 10 ** 4])
    gcc = env.compilers[0]
    ferrite, naive = contestant(gcc), f"naive ({gcc.name})"
    cases = []
    for n in sizes:
        label = f"{n:,} allocations"
        for name, who in (("growth_ferrite", ferrite), ("growth_naive", naive)):
            cmd = [binary(env, gcc, "bench_frame"), name] + options(n)
            # A million naive allocations take minutes: one round of those.
            slow = name == "growth_naive" and n >= 10 ** 6
            cases.append(Case(label, who, lambda cmd=cmd: run_native(cmd), rounds=1 if slow else None,
                              peer=ferrite if who == naive else None))
    return Group(
        name="frame_growth",
        title="Frame allocator: ferrite against the tutorial's allocator",
        about="n order-0 allocations from a fresh allocator over the 16 GiB map, never freed. *naive* is the "
              "hobby-OS tutorial's allocator (`bench/naive_frames.c`): the n-th call walks the map frame by "
              "frame to the n-th usable frame, so n calls cost O(n^2). ferrite's first pass backs the "
              "simulated pages its free lists touch and is not timed; the allocator is then rebuilt and "
              "timed. *total time* is for all n; *time* is per allocation.",
        cases=cases,
        plot=Plot("lines", ["total time"], logy=True, xlabel="allocations",
                  x={f"{n:,} allocations": n for n in sizes}),
        notes=["The naive allocator's million-allocation run is measured once (it takes minutes), so it has "
               "no spread."] if 10 ** 6 in sizes else [])


def paging(env):
    p = env.pick
    translate = [("translate 4 KiB page", "translate_4k"), ("translate 2 MiB page", "translate_2m"),
                 ("translate 1 GiB page", "translate_1g")]
    cases = []
    for label, name in translate:
        cases += timed_and_counted(env, "bench_paging", label, name, TRANSLATE_CALLS,
                                   p(20_000_000, 200_000), p(100_000, 10_000))
    range_4k = p(GIB, 16 * MIB)
    cases += timed_and_counted(env, "bench_paging", f"map+unmap 4 KiB, {size_text(range_4k)} range", "map_unmap_4k",
                               MAP_CALLS, p(2_097_152, 8192), p(262_144, 4096), size=range_4k)
    cases += timed_and_counted(env, "bench_paging", "map+unmap 2 MiB, 1 GiB range", "map_unmap_2m", MAP_CALLS,
                               p(2_000_000, 20_000), p(51_200, 5_120), size=GIB)
    return Group(
        name="paging",
        title="Mapper: translate, map and unmap",
        about="The walker and mapper over simulated memory with the offset access (the direct map's path), "
              "page tables from the real frame allocator (zeroed). *translate* cycles through 4096 random "
              "addresses (page and offset) in mapped pages of one size. *map+unmap* maps every page of a "
              "range one `paging_map` at a time, then unmaps each with `paging_unmap`; one operation is "
              "one map plus one unmap, page tables allocated and freed included. The host has no TLB, so "
              "flushes cost nothing here. *instructions* are those inside `paging_translate`, or inside "
              "`paging_map` and `paging_unmap` (callees, the frame allocator included), per operation.",
        cases=cases,
        targets=[Target(label, "instructions", 30, "<= 30 instr") for label, _ in translate],
        plot=Plot("bars", ["time", "instructions"]))


def groups(env):
    for cc in env.compilers:
        env.make("bench-bins", compiler=cc)
    return [frame_ops(env), frame_init(env), frame_growth(env), paging(env)]
