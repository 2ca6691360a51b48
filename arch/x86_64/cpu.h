/* x86_64 instructions the kernel needs, one small inline function each. */
#ifndef FERRITE_ARCH_CPU_H
#define FERRITE_ARCH_CPU_H

#include <stdbool.h>
#include <stdint.h>

#define CR0_WP   (UINT64_C(1) << 16)
#define CR4_PAE  (UINT64_C(1) << 5)
#define CR4_PGE  (UINT64_C(1) << 7)
#define CR4_UMIP (UINT64_C(1) << 11)
#define CR4_SMEP (UINT64_C(1) << 20)
#define CR4_SMAP (UINT64_C(1) << 21)

#define MSR_EFER  UINT32_C(0xc0000080)
#define EFER_NXE  (UINT64_C(1) << 11)

#define RFLAGS_IF (UINT64_C(1) << 9)

static inline void outb(uint16_t port, uint8_t value)
{
	__asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t value;

	__asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
	return value;
}

static inline void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
	__asm__ volatile("cpuid"
	                 : "=a"(regs[0]), "=b"(regs[1]), "=c"(regs[2]), "=d"(regs[3])
	                 : "a"(leaf), "c"(subleaf));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t value)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

#define DEFINE_CR_ACCESS(n)                                                   \
	static inline uint64_t read_cr##n(void)                               \
	{                                                                     \
		uint64_t v;                                                   \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));             \
		return v;                                                     \
	}                                                                     \
	static inline void write_cr##n(uint64_t v)                            \
	{                                                                     \
		__asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");    \
	}
DEFINE_CR_ACCESS(0)
DEFINE_CR_ACCESS(3)
DEFINE_CR_ACCESS(4)
#undef DEFINE_CR_ACCESS

static inline uint64_t read_cr2(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline void invlpg(uint64_t virt)
{
	__asm__ volatile("invlpg (%0)" : : "r"(virt) : "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t read_rflags(void)
{
	uint64_t flags;

	__asm__ volatile("pushfq; popq %0" : "=r"(flags));
	return flags;
}

static inline void cpu_relax(void) { __asm__ volatile("pause"); }
static inline void halt(void) { __asm__ volatile("hlt"); }

/* Masks interrupts and returns whether they were enabled, for irq_restore. */
static inline bool irq_save(void)
{
	bool enabled = read_rflags() & RFLAGS_IF;

	__asm__ volatile("cli" : : : "memory");
	return enabled;
}

static inline void irq_restore(bool enabled)
{
	if (enabled)
		__asm__ volatile("sti" : : : "memory");
}

#endif
