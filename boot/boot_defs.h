/* Constants shared by the boot assembly and C.  Assembly-safe: only #defines. */
#ifndef FERRITE_BOOT_DEFS_H
#define FERRITE_BOOT_DEFS_H

#define BOOT_MB2_MAGIC 0x36d76289   /* == MB2_BOOTLOADER_MAGIC, checked in boot.c */

/* isa-debug-exit, as in arch/x86_64/machine.h */
#define QEMU_DEBUG_EXIT_PORT 0xf4
#define QEMU_EXIT_FAILURE    0x11

#define BOOT_CODE64_SELECTOR 0x08
#define BOOT_DATA64_SELECTOR 0x10

#define CR0_PG_BIT    (1 << 31)
#define CR0_WP_BIT    (1 << 16)
#define CR4_PAE_BIT   (1 << 5)
#define MSR_EFER_NUM  0xc0000080
#define EFER_LME_BIT  (1 << 8)
#define EFER_NXE_BIT  (1 << 11)

/* Every kernel stack sits above an unmapped guard page, so an overflow faults instead of
 * silently overwriting whatever lies below. */
#define STACK_GUARD_SIZE  4096
#define KERNEL_STACK_SIZE (64 * 1024)
#define IST_STACK_SIZE    (16 * 1024)

#endif
