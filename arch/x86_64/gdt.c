#include "arch/x86_64/gdt.h"

#include <stdint.h>

#include "arch/x86_64/stacks.h"

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

static struct tss tss;

/* null, kernel code, kernel data, then the TSS descriptor, which takes two slots. */
static uint64_t gdt[5];

struct descriptor_pointer {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

#define SEG_CODE64 UINT64_C(0x00af9a000000ffff)  /* present, ring 0, code, long mode */
#define SEG_DATA   UINT64_C(0x00cf92000000ffff)  /* present, ring 0, data, writable */
#define TSS_AVAILABLE_64 UINT64_C(0x89)

static void set_tss_descriptor(uint64_t *slot, const struct tss *t)
{
	uint64_t base = (uint64_t)t;
	uint64_t limit = sizeof(*t) - 1;

	slot[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (TSS_AVAILABLE_64 << 40) |
	          (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	slot[1] = base >> 32;
}

void gdt_init(void)
{
	struct descriptor_pointer ptr = { sizeof(gdt) - 1, (uint64_t)gdt };

	tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)(double_fault_stack.stack + IST_STACK_SIZE);
	tss.iomap_base = sizeof(tss);   /* no I/O permission bitmap */

	gdt[1] = SEG_CODE64;
	gdt[2] = SEG_DATA;
	set_tss_descriptor(&gdt[3], &tss);

	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq %1\n\t"              /* reload CS with a far return */
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movw %w2, %%ax\n\t"
		"movw %%ax, %%ds\n\t"
		"movw %%ax, %%es\n\t"
		"movw %%ax, %%ss\n\t"
		"ltr %w3"
		:
		: "m"(ptr), "i"(GDT_KERNEL_CODE), "i"(GDT_KERNEL_DATA), "r"((uint16_t)GDT_TSS)
		: "rax", "memory");
}
