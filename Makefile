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

.PHONY: all kernel iso host-tests run test debug fuzz bench clean deps-build deps-run deps-test deps-bench

all: iso host-tests

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

host-tests: $(HOST_TEST_BINS) $(SAN_TEST_BINS)

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

ALL_OBJS := $(KERNEL_OBJS) $(HOST_LIB_OBJS) $(SAN_LIB_OBJS) \
	$(patsubst %,$(BUILD)/host/%.o,$(HOST_TESTS)) $(patsubst %,$(BUILD)/san/%.o,$(HOST_TESTS))
-include $(ALL_OBJS:.o=.d)
