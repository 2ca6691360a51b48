# ferrite: build, run and test.  `make run` and `make test` are the two commands; see README.md.
#
#   make run            boot the ISO in QEMU, print the boot report, then the memory monitor
#   make test           host unit tests (plain and ASan+UBSan), clang build, in-kernel tests in QEMU
#   make debug          QEMU halted with a GDB stub
#   make fuzz           libFuzzer targets, FUZZ_SECONDS each
#   make bench          benchmarks (QUICK=1 for a short run)
#
# CC selects the compiler for everything: gcc (default) or clang.

ifeq ($(origin CC),default)
CC := gcc
endif

BUILD    ?= build
# One spelling per build directory: -MMD names each dependency file's target the way BUILD spelled
# it, so a directory built once as /path/to/ferrite/build and once as build would miss header
# changes and link stale objects.  Inside the tree, BUILD is always the relative path.
override BUILD := $(patsubst $(CURDIR)/%,%,$(abspath $(BUILD)))
MEM      ?= 128M
FIRMWARE ?= bios
CPU      ?= max
ACCEL    ?= tcg
CMDLINE  ?=

IS_CLANG := $(findstring clang,$(CC))

# V=1 shows the full compiler command lines.
Q := $(if $(V),,@)

# ---------------------------------------------------------------------------------------------
# Sources.  The portable memory model (mm/) and library (lib/) build for the kernel and the host.

PORTABLE_SRCS := $(sort $(wildcard mm/*.c lib/*.c))
KERNEL_SRCS   := $(sort $(wildcard boot/*.S boot/*.c arch/x86_64/*.S arch/x86_64/*.c kernel/*.c tests/kernel/*.c)) \
                 $(PORTABLE_SRCS)
HOST_SUPPORT  := $(sort $(wildcard host/support/*.c))
HOST_TESTS    := $(sort $(wildcard tests/host/test_*.c))

# ---------------------------------------------------------------------------------------------
# Flags.

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla

KERNEL_CFLAGS := -std=c17 -O2 -g $(WARN) -I. -DFERRITE_KERNEL \
	-ffreestanding -fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-omit-frame-pointer -mno-red-zone -mgeneral-regs-only -mno-sse -mno-sse2 -mno-mmx \
	-mcmodel=kernel -MMD -MP
KERNEL_ASFLAGS := -g -I. -DFERRITE_KERNEL -MMD -MP
KERNEL_LDFLAGS := -n -z max-page-size=0x1000 -T boot/kernel.ld -nostdlib

ifneq ($(IS_CLANG),)
KERNEL_CC := $(CC) --target=x86_64-elf
KERNEL_LD := ld.lld
else
KERNEL_CC := $(CC)
KERNEL_LD := ld
KERNEL_LDFLAGS += --no-warn-rwx-segments
endif

HOST_CFLAGS := -std=c17 -O2 -g $(WARN) -I. -DFERRITE_HOST -MMD -MP -pthread
SAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
CRITERION   := -lcriterion

# ---------------------------------------------------------------------------------------------
# Top-level targets.

.PHONY: all kernel iso host-tests malloc-lib run test debug fuzz bench clean deps-build deps-run deps-test deps-bench

all: iso host-tests malloc-lib

KERNEL_ELF := $(BUILD)/ferrite.elf
ISO        := $(BUILD)/ferrite.iso

kernel: $(KERNEL_ELF)
iso: $(ISO)

run: deps-run iso
	@python3 tools/run.py --elf $(KERNEL_ELF) --iso $(ISO) --mem $(MEM) --firmware $(FIRMWARE) --cpu $(CPU) --accel $(ACCEL) \
		$(if $(CMDLINE),--cmdline "$(CMDLINE)")

debug: deps-run iso
	@python3 tools/run.py --elf $(KERNEL_ELF) --iso $(ISO) --mem $(MEM) --firmware $(FIRMWARE) --cpu $(CPU) --accel $(ACCEL) \
		--elf $(KERNEL_ELF) --debug $(if $(CMDLINE),--cmdline "$(CMDLINE)")

test: deps-test
	@python3 tools/test.py

clean:
	rm -rf $(BUILD)

deps-build deps-run deps-test deps-bench: deps-%:
	@bash tools/deps.sh $*

# ---------------------------------------------------------------------------------------------
# Kernel.

KERNEL_OBJS := $(patsubst %,$(BUILD)/kernel/%.o,$(KERNEL_SRCS))

$(BUILD)/kernel/%.c.o: %.c
	@mkdir -p $(@D)
	$(Q)$(KERNEL_CC) $(KERNEL_CFLAGS) -c $< -o $@

$(BUILD)/kernel/%.S.o: %.S
	@mkdir -p $(@D)
	$(Q)$(KERNEL_CC) $(KERNEL_ASFLAGS) -c $< -o $@

$(KERNEL_ELF): $(KERNEL_OBJS) boot/kernel.ld
	$(Q)$(KERNEL_LD) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS)

$(ISO): $(KERNEL_ELF) tools/mkiso.sh
	bash tools/mkiso.sh $(KERNEL_ELF) $@ ""

# ---------------------------------------------------------------------------------------------
# Host builds of the portable core: unit tests, plain and under ASan+UBSan.

HOST_LIB_OBJS := $(patsubst %,$(BUILD)/host/%.o,$(PORTABLE_SRCS) $(HOST_SUPPORT))
SAN_LIB_OBJS  := $(patsubst %,$(BUILD)/san/%.o,$(PORTABLE_SRCS) $(HOST_SUPPORT))
HOST_TEST_BINS := $(patsubst tests/host/%.c,$(BUILD)/host/bin/%,$(HOST_TESTS))
SAN_TEST_BINS  := $(patsubst tests/host/%.c,$(BUILD)/san/bin/%,$(HOST_TESTS))

host-tests: $(HOST_TEST_BINS) $(SAN_TEST_BINS) malloc-lib

$(BUILD)/host/%.c.o: %.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/san/%.c.o: %.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(BUILD)/host/bin/%: $(BUILD)/host/tests/host/%.c.o $(HOST_LIB_OBJS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ $^ $(CRITERION)

$(BUILD)/san/bin/%: $(BUILD)/san/tests/host/%.c.o $(SAN_LIB_OBJS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(CRITERION)

# ---------------------------------------------------------------------------------------------
# libferrite_malloc.so: the heap as malloc for any Linux program (LD_PRELOAD).  Only malloc and
# friends are exported; the heap's own symbols stay hidden.

MALLOC_LIB  := $(BUILD)/host/libferrite_malloc.so
MALLOC_SRCS := $(PORTABLE_SRCS) host/support/host_pages.c host/malloc/ferrite_malloc.c
PIC_OBJS    := $(patsubst %,$(BUILD)/pic/%.o,$(MALLOC_SRCS))

MISUSE    := $(BUILD)/host/misuse
LIFECYCLE := $(BUILD)/host/lifecycle

malloc-lib: $(MALLOC_LIB) $(MISUSE) $(LIFECYCLE)

# A program that misuses malloc on request, for the death tests (tests/host/test_malloc_death.c).
$(MISUSE): tests/malloc/misuse.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(HOST_CFLAGS) -O0 -o $@ $<

# A program that allocates before constructors and across fork (tools/malloc_check.py).
$(LIFECYCLE): tests/malloc/lifecycle.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ $<

$(BUILD)/pic/%.c.o: %.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(HOST_CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(MALLOC_LIB): $(PIC_OBJS)
	@mkdir -p $(@D)
	$(Q)$(CC) -shared -pthread -Wl,-z,defs -o $@ $^

ALL_OBJS := $(KERNEL_OBJS) $(PIC_OBJS) $(HOST_LIB_OBJS) $(SAN_LIB_OBJS) \
	$(patsubst %,$(BUILD)/host/%.o,$(HOST_TESTS)) $(patsubst %,$(BUILD)/san/%.o,$(HOST_TESTS))
-include $(ALL_OBJS:.o=.d)

# ---------------------------------------------------------------------------------------------
# Benchmarks.  Host binaries over the portable core, one per bench/bench_*.c; bench/run.py builds
# them (gcc and clang), runs them and writes $(BUILD)/bench/results.{md,csv} and plots.
# Their objects are their own: DWARF 4, because valgrind 3.19 cannot read clang 14's DWARF 5.
# bench_heap is the exception: a plain malloc program that bench/heap.py runs against each
# allocator (libferrite_malloc.so and others, through LD_PRELOAD), so it links the harness only.
# The kernel's benchmarks (bench/kernel.py) boot the kernel with kbench in QEMU.

BENCH_CFLAGS   := $(HOST_CFLAGS) -gdwarf-4
BENCH_MAINS    := $(sort $(wildcard bench/bench_*.c))
BENCH_SUPPORT  := bench/harness.c bench/naive_frames.c mm/frame.c mm/memmap.c mm/paging.c lib/parse.c \
                  host/support/simmem.c host/support/panic.c
BENCH_LIB_OBJS := $(patsubst %,$(BUILD)/bench/obj/%.o,$(BENCH_SUPPORT))
BENCH_BINS     := $(patsubst bench/%.c,$(BUILD)/bench/bin/%,$(BENCH_MAINS))
HEAP_BENCH     := $(BUILD)/bench/bin/bench_heap
HEAP_BENCH_OBJS := $(patsubst %,$(BUILD)/bench/obj/%.o,bench/bench_heap.c bench/harness.c mm/memmap.c lib/parse.c \
                   host/support/panic.c)

.PHONY: bench-bins
bench-bins: $(BENCH_BINS)

$(BUILD)/bench/obj/%.c.o: %.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(BENCH_CFLAGS) -c $< -o $@

$(filter-out $(HEAP_BENCH),$(BENCH_BINS)): $(BUILD)/bench/bin/%: $(BUILD)/bench/obj/bench/%.c.o $(BENCH_LIB_OBJS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BENCH_CFLAGS) -o $@ $^

$(HEAP_BENCH): $(HEAP_BENCH_OBJS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BENCH_CFLAGS) -o $@ $^

bench: deps-bench
	@python3 bench/run.py --build $(BUILD) $(if $(QUICK),--quick)

-include $(patsubst %,$(BUILD)/bench/obj/%.d,$(BENCH_MAINS) $(BENCH_SUPPORT))

# ---------------------------------------------------------------------------------------------
# Fuzzing: libFuzzer targets (tests/fuzz/fuzz_*.c), always built with clang, the portable core
# and host/support built alongside with coverage, ASan and UBSan.  tools/fuzz.py runs each target
# for FUZZ_SECONDS on a copy of its seed corpus; docs/fuzzing.md.

FUZZ_CC       := clang
FUZZ_SECONDS  ?= 60
FUZZ_BUILD    := $(BUILD)/fuzz
FUZZ_SRCS     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES    := $(patsubst tests/fuzz/%.c,%,$(FUZZ_SRCS))
FUZZ_BINS     := $(patsubst %,$(FUZZ_BUILD)/%,$(FUZZ_NAMES))
FUZZ_CFLAGS   := -std=c17 -O1 -g $(WARN) -I. -DFERRITE_HOST -MMD -MP -pthread -fno-omit-frame-pointer \
                 -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_LIB_OBJS := $(patsubst %,$(FUZZ_BUILD)/obj/%.o,$(PORTABLE_SRCS) $(HOST_SUPPORT))
FUZZ_TGT_OBJS := $(patsubst %,$(FUZZ_BUILD)/target/%.o,$(FUZZ_SRCS))

.PHONY: deps-fuzz fuzz-build
.SECONDARY: $(FUZZ_TGT_OBJS)

deps-fuzz:
	@bash tools/deps.sh fuzz

# The packages first, then the binaries in a sub-make, so that -j cannot start compiling first.
fuzz: deps-fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@python3 tools/fuzz.py --build $(FUZZ_BUILD) --seconds $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-build: $(FUZZ_BINS)

$(FUZZ_BUILD)/obj/%.c.o: %.c
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# Comparisons are traced only in the code under test: in the targets' models and in host/support
# (the simulations and their contract checks) the tracing would cost more than the code under
# test, and teach the fuzzer nothing.
$(FUZZ_BUILD)/obj/host/support/%.c.o: host/support/%.c
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -fno-sanitize-coverage=trace-cmp -c $< -o $@

$(FUZZ_BUILD)/target/%.c.o: %.c
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -fno-sanitize-coverage=trace-cmp -DFERRITE_LIBFUZZER -c $< -o $@

$(FUZZ_BINS): $(FUZZ_BUILD)/%: $(FUZZ_BUILD)/target/tests/fuzz/%.c.o $(FUZZ_LIB_OBJS)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^

# tests/host/test_fuzz_regressions.c runs the targets' entry functions: it links them, built as
# plain host code (no libFuzzer entry) by the host rules above.
$(BUILD)/host/bin/test_fuzz_regressions: $(patsubst %,$(BUILD)/host/%.o,$(FUZZ_SRCS))
$(BUILD)/san/bin/test_fuzz_regressions: $(patsubst %,$(BUILD)/san/%.o,$(FUZZ_SRCS))

-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_TGT_OBJS:.o=.d) \
	$(patsubst %,$(BUILD)/host/%.d,$(FUZZ_SRCS)) $(patsubst %,$(BUILD)/san/%.d,$(FUZZ_SRCS))
