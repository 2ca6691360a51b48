#!/usr/bin/env python3
"""make test: everything that shows ferrite works, ending with one "N passed, N failed" line.

Steps, in order:
  1. build the kernel, the ISO and the host tests with gcc;
  2. host unit tests (Criterion), plain and under ASan+UBSan;
  3. real programs (python3, sort, gcc, a fork and preinit test) on libferrite_malloc.so,
     compared with glibc's malloc, and one under valgrind's memcheck;
  4. build everything again with clang, and boot the clang kernel's tests once;
  5. the in-kernel test suite in QEMU, for each configuration of the matrix (tools/matrix.py);
  6. boots that must fail or fault in a precise, reported way, and monitor sessions.
Every QEMU run has a timeout; a hang is a failure.  Exit status 0 only if nothing failed.

Options: --only STEP[,STEP] runs some steps (build, host, malloc, clang, kernel, checks);
         --jobs N runs N QEMUs at once (default 2).
"""
import argparse
import concurrent.futures
import glob
import os
import re
import subprocess
import sys
import time

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)
import malloc_check  # noqa: E402
import matrix  # noqa: E402
import qemu  # noqa: E402

BUILD = os.path.join(ROOT, "build")
ELF = os.path.join(BUILD, "ferrite.elf")
CLANG_BUILD = os.path.join("build", "clang")
ISO_CACHE = os.path.join(BUILD, "iso-cache")
MALLOC_LIB = os.path.join(BUILD, "host", "libferrite_malloc.so")


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []

    def add(self, passed, failed, what, detail=""):
        self.passed += passed
        self.failed += failed
        status = "ok  " if failed == 0 else "FAIL"
        print(f"{status} {what}: {passed} passed, {failed} failed{detail}", flush=True)
        if failed:
            self.failures.append(what)


def run(cmd, timeout, **kw):
    try:
        p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, **kw)
        return p.returncode, p.stdout.decode(errors="replace").replace("\r\n", "\n")
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        return None, out + f"\n[timed out after {timeout} s]\n"


def show_tail(text, lines=30):
    tail = text.rstrip("\n").split("\n")[-lines:]
    print("    | " + "\n    | ".join(tail), flush=True)


def step_build(tally):
    status, out = run(["make", "-j2", "all"], timeout=900)
    if status != 0:
        show_tail(out)
    tally.add(int(status == 0), int(status != 0), "build (gcc): kernel, ISO, host tests")
    return status == 0


CRITERION_SUMMARY = re.compile(r"Synthesis: Tested: (\d+) \| Passing: (\d+) \| Failing: (\d+) \| Crashing: (\d+)")


def step_host(tally):
    for kind in ("host", "san"):
        for binary in sorted(glob.glob(os.path.join(BUILD, kind, "bin", "test_*"))):
            name = f"{'host' if kind == 'host' else 'host ASan+UBSan'} {os.path.basename(binary)}"
            env = dict(os.environ, FERRITE_MALLOC_LIB=MALLOC_LIB, FERRITE_MISUSE=os.path.join(BUILD, "host", "misuse"))
            status, out = run([binary, "--jobs=2"], timeout=900, env=env)
            m = CRITERION_SUMMARY.search(out)
            if not m:
                show_tail(out)
                tally.add(0, 1, name, " (no summary: crashed or timed out)")
                continue
            tested, passing = int(m.group(1)), int(m.group(2))
            failed = tested - passing + (status != 0 and tested == passing)
            if failed:
                show_tail(out)
            tally.add(passing, failed, name)


def step_malloc(tally):
    for name, ok, detail in malloc_check.checks(MALLOC_LIB) + [malloc_check.memcheck(MALLOC_LIB)]:
        tally.add(int(ok), int(not ok), name, detail)


def step_clang(tally):
    cmd = ["make", "-j2", "CC=clang", f"BUILD={CLANG_BUILD}", "kernel", "host-tests"]
    status, out = run(cmd, timeout=900)
    if status != 0:
        show_tail(out)
    tally.add(int(status == 0), int(status != 0), "build (clang): kernel and host tests")
    if status == 0:
        config = matrix.KernelRun("clang kernel, bios 128M", "bios", "128M", "max", "ktest=all")
        report_kernel_run(tally, config, run_kernel(config, os.path.join(ROOT, CLANG_BUILD, "ferrite.elf")))


def run_kernel(config, elf=ELF, stdin_text=None):
    iso = qemu.iso_for(elf, config.cmdline, ISO_CACHE)
    cmd = qemu.command(iso, config.mem, config.firmware, config.cpu)
    start = time.monotonic()
    status, out = run(cmd, timeout=config.timeout, input=stdin_text.encode() if stdin_text else None)
    return status, out, time.monotonic() - start


KTEST_LINE = re.compile(r"^(ok  |FAIL) +\d+ (\S+?)(?::|$)", re.M)
KTEST_SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed", re.M)


def report_kernel_run(tally, config, result):
    status, out, seconds = result
    lines = KTEST_LINE.findall(out)
    summary = KTEST_SUMMARY.search(out)
    passed = sum(1 for verdict, _ in lines if verdict == "ok  ")
    failed = sum(1 for verdict, _ in lines if verdict == "FAIL")
    problems = []
    if status != qemu.EXIT_SUCCESS:
        problems.append(f"QEMU: {qemu.verdict(status) if status is not None else 'timed out'}")
    if not summary:
        problems.append("no closing 'N passed, N failed' line")
    elif (int(summary.group(1)), int(summary.group(2))) != (passed, failed):
        problems.append("closing line disagrees with the test lines")
    if passed + failed == 0:
        problems.append("no tests ran")
    if problems or failed:
        for verdict, name in lines:
            if verdict == "FAIL":
                print(f"    FAIL {name}")
        show_tail(out)
    detail = f" ({seconds:.1f} s)" + ("; " + "; ".join(problems) if problems else "")
    tally.add(passed, failed + (1 if problems else 0), f"kernel {config.name}", detail)


def check_expectations(tally, check, result):
    status, out, seconds = result
    problems = []
    if status != check.exit_status:
        got = qemu.verdict(status) if status is not None else "timed out"
        problems.append(f"expected QEMU status {check.exit_status}, got {status} ({got})")
    for pattern in check.expect:
        if not re.search(pattern, out, re.M):
            problems.append(f"missing output matching {pattern!r}")
    for pattern in check.forbid:
        if re.search(pattern, out, re.M):
            problems.append(f"unexpected output matching {pattern!r}")
    if problems:
        for p in problems:
            print(f"    {p}")
        show_tail(out)
    tally.add(int(not problems), int(bool(problems)), f"check {check.name}", f" ({seconds:.1f} s)")


def step_kernel(tally, jobs):
    configs = matrix.kernel_runs()
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for config, result in zip(configs, pool.map(run_kernel, configs)):
            report_kernel_run(tally, config, result)


def step_checks(tally, jobs):
    checks = matrix.checks()
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        results = pool.map(lambda c: run_kernel(c, stdin_text=c.stdin), checks)
        for check, result in zip(checks, results):
            check_expectations(tally, check, result)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="build,host,malloc,clang,kernel,checks")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    steps = args.only.split(",")
    tally = Tally()
    start = time.monotonic()

    if "build" in steps and not step_build(tally):
        steps = []
    if "host" in steps:
        step_host(tally)
    if "malloc" in steps:
        step_malloc(tally)
    if "clang" in steps:
        step_clang(tally)
    if "kernel" in steps:
        step_kernel(tally, args.jobs)
    if "checks" in steps:
        step_checks(tally, args.jobs)

    minutes, seconds = divmod(int(time.monotonic() - start), 60)
    if tally.failures:
        print("\nFailed: " + "; ".join(tally.failures))
    print(f"\n{tally.passed} passed, {tally.failed} failed ({minutes}m{seconds:02d}s)")
    return 0 if tally.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
