"""What `make test` boots: the in-kernel test matrix, and the checks that read a boot's output.

Each kernel run boots the in-kernel suite (ktest=all) under one configuration; each check boots
once and asserts the exit status and lines of output, for faults provoked on purpose, boots
that must be refused, and monitor sessions.  docs/testing.md describes each.
"""
import dataclasses

import qemu

TECHNIQUES = ("offset", "recursive", "temporary")

# Firmware, memory and CPU configurations the whole suite runs under, with every technique.
MACHINES = (
    ("bios", "128M", "max"),
    ("bios", "4G", "max"),      # memory above 4 GiB, the PCI hole, the HyperTransport hole
    ("bios", "4G", "qemu64"),   # no 1 GiB pages (the direct map's 2 MiB path), no SMEP/SMAP
    ("uefi", "128M", "max"),
    ("uefi", "512M", "max"),    # OVMF's fragmented map
    ("uefi", "4G", "max"),
)


@dataclasses.dataclass
class KernelRun:
    name: str
    firmware: str
    mem: str
    cpu: str
    cmdline: str
    timeout: int = 120


@dataclasses.dataclass
class Check(KernelRun):
    stdin: str = ""
    exit_status: int = qemu.EXIT_SUCCESS
    expect: tuple = ()
    forbid: tuple = ()


HEAP_DESIGNS = ("bump", "list", "fixed", "slab")


def kernel_runs():
    runs = []
    for firmware, mem, cpu in MACHINES:
        for technique in TECHNIQUES:
            runs.append(KernelRun(f"{firmware} {mem} cpu={cpu} paging={technique}", firmware, mem, cpu,
                                  f"ktest=all paging={technique}", timeout=180 if firmware == "uefi" else 120))
    # Memory from the smallest BIOS machine ferrite boots on (6 MiB; docs/testing.md) to 8 GiB,
    # and one 64 GiB machine: metadata and start-up must scale, the direct map reach far up.
    for mem in ("6M", "16M", "32M", "512M", "1G", "2G", "8G", "64G"):
        runs.append(KernelRun(f"bios {mem}", "bios", mem, "max", "ktest=all", timeout=180))
    runs.append(KernelRun("uefi 64M (the smallest OVMF boots)", "uefi", "64M", "max", "ktest=all", timeout=180))
    # A heap whose region limit, not the frames, runs out.
    runs.append(KernelRun("bios 128M heap.max=8M", "bios", "128M", "max", "ktest=all heap.max=8M"))
    # Every heap design, plain and in debug mode (the default slab is covered above).
    for design in HEAP_DESIGNS:
        for debug in ("0", "1"):
            if design == "slab" and debug == "0":
                continue
            runs.append(KernelRun(f"bios 128M heap={design} heap.debug={debug}", "bios", "128M", "max",
                                  f"ktest=all heap={design} heap.debug={debug}"))
    return runs


HEX16 = r"0x[0-9a-f]{16}"


def crash(kind, *expect):
    return Check(f"crash={kind} is reported", "bios", "128M", "max", f"crash={kind}",
                 exit_status=qemu.EXIT_PANIC, expect=expect)


def misuse(kind, cmdline, *expect):
    return Check(f"crash={kind} is reported", "bios", "128M", "max", f"crash={kind} {cmdline}".strip(),
                 exit_status=qemu.EXIT_FAILURE, expect=expect + (rf"^crash: {kind} did not stop the kernel$",))


def refusal(name, cpu, cmdline, *expect, mem="128M"):
    return Check(name, "bios", mem, cpu, cmdline, exit_status=qemu.EXIT_FAILURE, expect=expect)


def monitor(name, commands, *expect, forbid=(), firmware="bios", mem="128M", cmdline=""):
    return Check(name, firmware, mem, "max", cmdline, stdin="".join(c + "\n" for c in commands) + "poweroff\n",
                 expect=expect, forbid=forbid)


def checks():
    return [
        crash("null", rf"^PANIC at \S+: page fault at RIP {HEX16}: kernel-mode read of 0x0000000000000000 "
                      r"\(page not present\), error 0x0$"),
        crash("write-text", rf"^PANIC at \S+: page fault at RIP {HEX16}: kernel-mode write of {HEX16} "
                            r"\(protection violation\), error 0x3$"),
        crash("exec-data", rf"^PANIC at \S+: page fault at RIP {HEX16}: kernel-mode instruction fetch of {HEX16} "
                           r"\(protection violation\), error 0x11$"),
        crash("stack-overflow", r"^PANIC at \S+: kernel stack overflow: the kernel stack ran into its guard page"),
        misuse("double-free", "", rf"^heap: double free at {HEX16} \(slab heap, class 64\)"),
        misuse("invalid-free", "", rf"^heap: inside an object, not at its start at {HEX16} \(slab heap, class 64\): "
                                   r"free of a pointer that is not a live heap object$"),
        misuse("redzone", "heap.debug=1", rf"^heap: redzone overwritten at \+24 at {HEX16} \(slab heap, class 48\)"),
        misuse("use-after-free", "heap.debug=1",
               rf"^heap: freed object written at \+16 at {HEX16} \(slab heap, class 64\): .*use after free"),
        refusal("too little memory is refused", "max", "", r"^ferrite: cannot boot: not enough memory: \d+ KiB free "
                r"after boot, ferrite needs at least 4096 KiB$", mem="5M"),
        Check("the direct map uses 2 MiB pages without pdpe1gb", "bios", "4G", "qemu64", "", stdin="poweroff\n",
              expect=(r"^Direct map: .* 4 GiB in 0 1G \+ 2048 2M \+ 0 4K pages$",)),
        Check("the direct map uses 1 GiB pages with pdpe1gb", "bios", "4G", "max", "", stdin="poweroff\n",
              expect=(r"^Direct map: .* 4 GiB in 4 1G \+ 0 2M \+ 0 4K pages$",)),
        refusal("a CPU without long mode is refused", "qemu32",
                "", r"^ferrite: cannot boot: this CPU has no long mode \(x86_64 is required\)"),
        refusal("a CPU without NX is refused", "qemu64,-nx",
                "", r"^ferrite: cannot boot: this CPU has no NX"),
        refusal("a bad paging= value is refused", "max", "paging=identity",
                r"^ferrite: cannot boot: kernel command line option paging: expected offset, recursive or temporary"),
        monitor("boot report and the tutorial's demos", [],
                r"^Memory map \(\d+ ranges, from GRUB",
                rf"^0xffff8000000b8000 -> 0x00000000000b8000 2M RW NX G$",
                rf"^0xffffffff8[0-9a-f]{{7}} -> 0x0000000000[0-9a-f]{{6}} 4K R X G$",
                r"^0xffff800000000000 -> 0x0000000000000000 2M RW NX G$",
                r"^0x00000deadbeaf000 -> not mapped$",
                r"wrote 0x0f21 through it, read 0x0f21 back through the direct map",
                r"^0x00000deadbeaf000 -> 0x00000000000b8000 4K RW NX$",
                r"^Frame allocator:"),
        monitor("monitor: translate, map, read, unmap", [
            "translate 0xffff800000100000",
            "map 0xffffc08000000000 0x100000 rw",
            "read 0xffffc08000000000 16",
            "translate 0xffffc08000000000",
            "unmap 0xffffc08000000000",
            "translate 0xffffc08000000000",
            "read 0xffffc08000000000 16",
            "ptdump 0xffff800000100000",
            "ptdump",
            "meminfo",
            "memmap",
            "help",
        ],
            r"^0xffff800000100000 -> 0x0000000000100000 2M RW NX G$",
            r"^0xffffc08000000000 -> 0x0000000000100000 4K RW NX$",
            r"^  ffffc08000000000  d6 50 52 e8 00 00 00 00",   # the Multiboot2 header at 1 MiB
            r"^unmapped 0xffffc08000000000 \(was -> 0x0000000000100000 4K\)$",
            r"^0xffffc08000000000 -> not mapped$",
            r"^error: read: page fault at 0xffffc08000000000 \(page not present\)$",
            r"^  PML4 0x[0-9a-f]{16}\[256\] = ",
            r"^  \d+ runs of mappings$",
            r"^  poweroff ",
            forbid=(r"PANIC",)),
        monitor("monitor: heapstat, kmalloc and kfree", [
            "kmalloc 100",
            "kmalloc 5000",
            "heapstat",
            "kfree 0xffffc00000000008",
            "kfree 0x1234",
        ],
            r"^0xffffc[0-9a-f]{11} \(\d+ usable bytes\)$",
            r"^slab heap at 0xffffc00000000000: .* mapped \(peak .*\)$",
            r"^  \d+ objects, .* handed out; \d+% of the mapped bytes are handed out$",
            r"^  the monitor holds 2 of them \(kmalloc here\): 4.9 KiB requested$",
            r"^ +112 +1 +1 +4 KiB$",
            r"^ +pages +1 +1 +8 KiB$",
            r"^error: kfree: free of a pointer that is not a live heap object$",
            r"^heap: .* at 0x0000000000001234 \(slab heap, class 0\)",
            forbid=(r"PANIC",)),
        monitor("monitor: bad input gets an error and a new prompt", [
            "frobnicate",
            "translate",
            "translate 0xzz",
            "translate 99999999999999999999999",
            "translate 0x8000000000000000",
            "map 0x1000 0x2000 3k",
            "map 0x1001 0x2000",
            "map 0x1000 0x2000 rw x",
            "unmap 0x5000",
            "read 0x0",
            "read 0x1000 0",
            "x" * 200,
            "translate 0xffff800000000000",
        ],
            r"^error: unknown command 'frobnicate' \(type 'help' for the list\)$",
            r"^error: translate: expected translate VADDR$",
            r"^error: translate: bad address '0xzz': ",
            r"^error: translate: bad address '99999999999999999999999': ",
            r"^0x8000000000000000 -> non-canonical$",
            r"^error: map: unknown option '3k'",
            r"^error: map: .*align",
            r"^error: map: refusing a page that is both writable and executable \(W\^X\)$",
            r"^error: unmap: .*not mapped",
            r"^error: read: page fault at 0x0000000000000000 \(page not present\)$",
            r"^error: read: count must be 1\.\.4096$",
            r"^error: line longer than 128 characters$",
            r"^0xffff800000000000 -> 0x0000000000000000 2M RW NX G$",
            forbid=(r"PANIC",)),
    ]
