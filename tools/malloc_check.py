"""Real programs on libferrite_malloc.so (LD_PRELOAD), compared with the same programs on glibc's
malloc: Python running an allocation-heavy script, sort over a few MB of text, gcc compiling a C
file, and tests/malloc/lifecycle.c, which allocates before constructors and across fork.  Used
by tools/test.py; each check returns (name, ok, detail)."""
import os
import random
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "build", "malloc-check")


def sort_input():
    path = os.path.join(WORK, "words.txt")
    if not os.path.exists(path):
        rng = random.Random(7)
        os.makedirs(WORK, exist_ok=True)
        with open(path, "w") as f:
            for _ in range(250000):
                f.write("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 30))) + "\n")
    return path


def programs():
    """(name, argv, designs): each program runs on these heap designs."""
    os.makedirs(WORK, exist_ok=True)
    return [
        ("python3 allocation-heavy script", ["python3", os.path.join(ROOT, "tests", "malloc", "workload.py")],
         ("slab", "list", "fixed", "bump")),
        ("sort of 4 MB of text", ["sort", sort_input()], ("slab", "list", "fixed", "bump")),
        ("gcc -O2 -S lib/format.c", ["gcc", "-std=c17", "-O2", "-I", ROOT, "-S", "-o", "-",
                                     os.path.join(ROOT, "lib", "format.c")], ("slab", "list", "fixed")),
        ("allocation before constructors and across fork", [os.path.join(ROOT, "build", "host", "lifecycle")],
         ("slab", "list", "fixed", "bump")),
    ]


def run(argv, preload=None, design=None, timeout=300):
    env = dict(os.environ, LC_ALL="C", PYTHONHASHSEED="0")
    if preload:
        env["LD_PRELOAD"] = preload
        env["FERRITE_HEAP"] = design
    try:
        p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", b"", f"no exit within {timeout} s"
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def checks(lib):
    """Each program on each of its designs: same exit status, same output, no report from the heap,
    and the library really preloaded (the dynamic loader says so on stderr when it is not)."""
    results = []
    for name, argv, designs in programs():
        want_status, want_out, _ = run(argv)
        for design in designs:
            status, out, err = run(argv, lib, design)
            ok = (status == want_status and out == want_out and "ferrite_malloc" not in err
                  and "cannot be preloaded" not in err)
            detail = "" if ok else f" (status {status} vs {want_status}, output {'same' if out == want_out else 'differs'}; {err[-300:]})"
            results.append((f"LD_PRELOAD {design} heap: {name}", ok, detail))
    return results


def memcheck(lib):
    """valgrind's memcheck over a real program running on ferrite's malloc (valgrind's own
    malloc replacement turned off, so the program really uses ours)."""
    argv = ["valgrind", "--tool=memcheck", "--error-exitcode=99", "--soname-synonyms=somalloc=nouserintercepts",
            "-q", "sort", sort_input()]
    status, _, err = run(argv, lib, "slab", timeout=900)
    return ("valgrind memcheck: sort on the slab heap", status == 0, "" if status == 0 else f" ({err[-500:]})")
