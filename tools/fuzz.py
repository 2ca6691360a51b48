#!/usr/bin/env python3
"""make fuzz: runs each libFuzzer target for a while, one after another, and says how it went.

For each target named (built by `make fuzz-build` as BUILD/<target>):
  1. copies the seeds in tests/fuzz/corpus/<target>/ into BUILD/corpus/<target>/, so the fuzzer
     grows its own copy (kept between runs) and never writes into the repository;
  2. runs the target for --seconds with leak detection, a per-input time limit and the target's
     -max_len, its output in BUILD/logs/<target>.log and what it saves in BUILD/artifacts/<target>/;
  3. prints one line: executions, executions per second, coverage, corpus size, and the result.
A crash, a failed check, a sanitizer report, a leak, a slow input or an out-of-memory is a
failure: the line says which, where the log is, and which input to replay
(`BUILD/<target> INPUT`).  Exit status 0 only if every target ran clean.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Inputs longer than this are never tried: enough for the largest meaningful input of each.
MAX_LEN = {
    "fuzz_multiboot2": 8192,  # the UEFI GRUB capture is 6752 bytes
    "fuzz_frame": 2048,
    "fuzz_paging": 2048,
    "fuzz_heap": 2048,
}
DEFAULT_MAX_LEN = 4096
INPUT_TIMEOUT = 25   # seconds one input may take before it counts as a hang
RSS_LIMIT_MB = 4096

STATUS_LINE = re.compile(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/")
FINAL_STAT = re.compile(r"^stat::(\w+):\s+(\d+)")
ARTIFACT = re.compile(r"Test unit written to (\S+)")
# What went wrong, most specific first.
PROBLEMS = [
    re.compile(r"(fuzz check failed at .*)"),
    re.compile(r"(panic at .*)"),
    re.compile(r"(sim_space: .*)"),
    re.compile(r"SUMMARY: (\w+Sanitizer: .*)"),
    re.compile(r"ERROR: (LeakSanitizer: .*)"),
    re.compile(r"ERROR: libFuzzer: (.*)"),
]


def copy_seeds(target, corpus):
    os.makedirs(corpus, exist_ok=True)
    seeds = os.path.join(ROOT, "tests", "fuzz", "corpus", target)
    count = 0
    if os.path.isdir(seeds):
        for name in sorted(os.listdir(seeds)):
            path = os.path.join(seeds, name)
            if os.path.isfile(path):
                shutil.copyfile(path, os.path.join(corpus, name))
                count += 1
    return count


def summarize(log_text):
    """Executions, executions per second, coverage, features and corpus size from a log."""
    stats = {"execs": 0, "per_sec": 0, "cov": 0, "ft": 0, "corpus": 0}
    for line in log_text.splitlines():
        m = STATUS_LINE.match(line)
        if m:
            stats["execs"] = int(m.group(1))
            stats["cov"], stats["ft"], stats["corpus"] = int(m.group(2)), int(m.group(3)), int(m.group(4))
        m = FINAL_STAT.match(line)
        if m and m.group(1) == "number_of_executed_units":
            stats["execs"] = int(m.group(2))
        elif m and m.group(1) == "average_exec_per_sec":
            stats["per_sec"] = int(m.group(2))
    return stats


def problem_of(log_text):
    for pattern in PROBLEMS:
        m = pattern.search(log_text)
        if m:
            return m.group(1).strip()
    return "the fuzzer exited with an error"


def run_target(target, build, seconds):
    binary = os.path.join(build, target)
    corpus = os.path.join(build, "corpus", target)
    artifacts = os.path.join(build, "artifacts", target) + os.sep
    log_path = os.path.join(build, "logs", target + ".log")
    if not os.path.isfile(binary):
        return False, f"{target:<16} FAIL  not built: {binary} is missing"
    seeds = copy_seeds(target, corpus)
    os.makedirs(artifacts, exist_ok=True)
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    cmd = [binary, corpus,
           f"-max_total_time={seconds}",
           f"-max_len={MAX_LEN.get(target, DEFAULT_MAX_LEN)}",
           f"-timeout={INPUT_TIMEOUT}",
           f"-rss_limit_mb={RSS_LIMIT_MB}",
           "-detect_leaks=1",
           "-print_final_stats=1",
           f"-artifact_prefix={artifacts}"]
    env = dict(os.environ,
               ASAN_OPTIONS="detect_leaks=1:symbolize=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    with open(log_path, "w") as log:
        try:
            status = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env,
                                    timeout=seconds + 10 * INPUT_TIMEOUT).returncode
        except subprocess.TimeoutExpired:
            status = None
    with open(log_path, errors="replace") as log:
        text = log.read()
    stats = summarize(text)
    numbers = (f"{stats['execs']:>9} execs ({stats['per_sec']}/s)  cov {stats['cov']}  ft {stats['ft']}  "
               f"corpus {stats['corpus']} ({seeds} seeds)")
    if status == 0:
        return True, f"{target:<16} ok    {numbers}"
    if status is None:
        what = f"did not stop within {seconds + 10 * INPUT_TIMEOUT} s"
    else:
        what = problem_of(text)
    artifact = ARTIFACT.search(text)
    where = f"\n    input: {artifact.group(1)}" if artifact else ""
    return False, f"{target:<16} FAIL  {numbers}\n    {what}{where}\n    log:   {log_path}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build", "fuzz"), help="where the targets are")
    parser.add_argument("--seconds", type=int, default=60, help="how long each target runs")
    parser.add_argument("targets", nargs="+", help="target names, e.g. fuzz_frame")
    args = parser.parse_args()
    build = os.path.abspath(args.build)

    passed = failed = 0
    for target in args.targets:
        print(f"{target}: fuzzing for {args.seconds} s ...", flush=True)
        ok, line = run_target(target, build, args.seconds)
        print(line, flush=True)
        passed += ok
        failed += not ok
    print(f"fuzz: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
