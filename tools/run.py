#!/usr/bin/env python3
"""make run / make debug: boot ferrite in QEMU with the serial console on this terminal.

At a terminal, you get the monitor and type commands (Ctrl-C ends QEMU).  With standard input
from a pipe or file, each line is sent as a monitor command when the prompt appears, and
`poweroff` is sent when the input ends, for example:
    printf 'translate 0xb8000\\n' | make run
Exit status 0 when the kernel powers off cleanly.
"""
import argparse
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402


def interactive(cmd, timeout):
    try:
        return subprocess.run(cmd, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        print(f"\nrun: no exit after {timeout} s; QEMU stopped", file=sys.stderr)
        return 124


class SerialReader(threading.Thread):
    """Copies QEMU's serial output to our stdout and counts the prompts it has seen."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.prompts = 0
        self.tail = b""
        self.cond = threading.Condition()

    def run(self):
        while True:
            chunk = os.read(self.stream.fileno(), 4096)
            if not chunk:
                break
            sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            with self.cond:
                data = self.tail + chunk
                self.prompts += data.count(qemu.PROMPT)
                self.tail = data[-(len(qemu.PROMPT) - 1):]
                self.cond.notify_all()
        with self.cond:
            self.prompts = -1   # output ended
            self.cond.notify_all()

    def wait_for_prompt(self, count, deadline):
        with self.cond:
            while 0 <= self.prompts < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return self.prompts >= count


def scripted(cmd, timeout):
    lines = sys.stdin.read().splitlines()
    if not lines or lines[-1].strip() != "poweroff":
        lines.append("poweroff")
    deadline = time.monotonic() + timeout
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    reader = SerialReader(proc.stdout)
    reader.start()
    try:
        for n, line in enumerate(lines, start=1):
            if not reader.wait_for_prompt(n, deadline):
                break
            proc.stdin.write(line.encode() + b"\n")
            proc.stdin.flush()
        status = proc.wait(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        print(f"\nrun: no exit after {timeout} s; QEMU stopped", file=sys.stderr)
        return 124
    except BrokenPipeError:
        status = proc.wait()
    reader.join(timeout=5)
    return status


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--elf", required=True)
    ap.add_argument("--iso", help="boot this image instead of building one for --cmdline")
    ap.add_argument("--cmdline", default="")
    ap.add_argument("--mem", default="128M")
    ap.add_argument("--firmware", default="bios")
    ap.add_argument("--cpu", default="max")
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("--timeout", type=int, default=None,
                    help="seconds before QEMU is stopped (default: 120 scripted, 3600 at a terminal)")
    ap.add_argument("--debug", action="store_true", help="start halted with a GDB stub on :1234")
    args = ap.parse_args()

    cache = os.path.join(os.path.dirname(args.elf), "iso-cache")
    iso = args.iso if args.iso and not args.cmdline else qemu.iso_for(args.elf, args.cmdline, cache)
    extra = ["-s", "-S"] if args.debug else []
    cmd = qemu.command(iso, args.mem, args.firmware, args.cpu, args.accel, extra)

    at_terminal = sys.stdin.isatty()
    if args.debug:
        print("QEMU is halted with a GDB stub on localhost:1234. In another terminal:\n"
              f"  gdb {args.elf} -ex 'target remote localhost:1234' -ex 'break kmain' -ex continue\n",
              file=sys.stderr)
    timeout = args.timeout or (3600 if at_terminal or args.debug else 120)
    status = interactive(cmd, timeout) if at_terminal or args.debug else scripted(cmd, timeout)
    if status == qemu.EXIT_SUCCESS:
        return 0
    if status != 124:
        print(f"run: {qemu.verdict(status)}", file=sys.stderr)
    return 1 if status != 124 else 124


if __name__ == "__main__":
    sys.exit(main())
