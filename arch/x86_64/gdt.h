/* The kernel's GDT and TSS.  Long mode ignores segmentation, but the TSS is where the CPU finds
 * the separate stack (IST1) it switches to for a double fault. */
#ifndef FERRITE_ARCH_GDT_H
#define FERRITE_ARCH_GDT_H

#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10
#define GDT_TSS         0x18

#define IST_DOUBLE_FAULT 1

void gdt_init(void);

#endif
