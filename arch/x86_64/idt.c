#include <stdint.h>

#include "arch/x86_64/gdt.h"
#include "arch/x86_64/trap.h"

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

#define GATE_INTERRUPT_RING0 0x8e  /* present, DPL 0, 64-bit interrupt gate (masks interrupts) */

extern const uint64_t isr_stubs[VEC_EXCEPTION_COUNT];

static struct idt_gate idt[VEC_EXCEPTION_COUNT];

static struct idt_gate make_gate(uint64_t handler, uint8_t ist)
{
	return (struct idt_gate){
		.offset_low = (uint16_t)handler,
		.selector = GDT_KERNEL_CODE,
		.ist = ist,
		.type_attr = GATE_INTERRUPT_RING0,
		.offset_mid = (uint16_t)(handler >> 16),
		.offset_high = (uint32_t)(handler >> 32),
	};
}

/* Installs a gate for every CPU exception; the double fault runs on its own stack. */
void idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(idt) - 1, (uint64_t)idt };

	for (unsigned v = 0; v < VEC_EXCEPTION_COUNT; v++)
		idt[v] = make_gate(isr_stubs[v], v == VEC_DOUBLE_FAULT ? IST_DOUBLE_FAULT : 0);
	__asm__ volatile("lidt %0" : : "m"(ptr));
}
