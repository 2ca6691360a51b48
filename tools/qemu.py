"""Booting ferrite in QEMU: command lines, ISOs per kernel command line, and exit statuses.

Shared by tools/run.py (make run, make debug), tools/test.py (make test) and the benchmarks.
"""
import hashlib
import os
import subprocess

OVMF = "/usr/share/ovmf/OVMF.fd"

# isa-debug-exit turns the value the kernel writes into the exit status (value << 1) | 1.
EXIT_SUCCESS = 33   # MACHINE_EXIT_SUCCESS, 0x10
EXIT_FAILURE = 35   # MACHINE_EXIT_FAILURE, 0x11: tests failed, or the kernel refused to boot
EXIT_PANIC = 37     # MACHINE_EXIT_PANIC, 0x12

VERDICTS = {
    EXIT_SUCCESS: "success",
    EXIT_FAILURE: "the kernel reported failure",
    EXIT_PANIC: "kernel panic",
    0: "QEMU exited without a verdict from the kernel (triple fault?)",
}

# The monitor's prompt; the kernel prints it when it is ready for a command.
PROMPT = b"ferrite> "

# Guest RAM above this is reserved lazily (reserve=off): the host overcommit policy refuses a
# plain 64 GiB allocation on a 24 GiB machine, but the guest only touches what it uses.
LAZY_RAM_ABOVE = 16 << 30


def parse_size(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    text = text.strip().upper()
    if text and text[-1] in units:
        return int(text[:-1]) * units[text[-1]]
    return int(text) << 20   # QEMU reads a bare number as MiB


def iso_for(elf, cmdline, cache_dir):
    """An ISO that boots `elf` with `cmdline`, built once per (kernel, command line)."""
    with open(elf, "rb") as f:
        key = hashlib.sha1(f.read() + b"\0" + cmdline.encode()).hexdigest()[:16]
    iso = os.path.join(cache_dir, key + ".iso")
    if not os.path.exists(iso):
        os.makedirs(cache_dir, exist_ok=True)
        tools = os.path.dirname(os.path.abspath(__file__))
        subprocess.run(["bash", os.path.join(tools, "mkiso.sh"), elf, iso, cmdline], check=True)
    return iso


def command(iso, mem="128M", firmware="bios", cpu="max", accel="tcg", extra=()):
    """The QEMU command line: headless, serial on stdio, isa-debug-exit, no reboot."""
    cmd = ["qemu-system-x86_64", "-accel", accel, "-cpu", cpu,
           "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-boot", "d", "-cdrom", iso]
    size = parse_size(mem)
    if size > LAZY_RAM_ABOVE:
        cmd += ["-m", mem, "-object", f"memory-backend-ram,id=ram0,size={size},reserve=off",
                "-machine", "memory-backend=ram0"]
    else:
        cmd += ["-m", mem]
    if firmware == "uefi":
        cmd += ["-bios", OVMF]
    elif firmware != "bios":
        raise ValueError(f"unknown firmware {firmware!r}: expected bios or uefi")
    return cmd + list(extra)


def verdict(status):
    if status in VERDICTS:
        return VERDICTS[status]
    return f"QEMU exited with status {status}"
