/* What the CPU offers, read once with CPUID, and the protections ferrite turns on. */
#ifndef FERRITE_ARCH_CPU_FEATURES_H
#define FERRITE_ARCH_CPU_FEATURES_H

#include <stdbool.h>
#include <stdint.h>

struct cpu_features {
	char vendor[13];
	char brand[49];
	bool nx;            /* no-execute pages (required; checked at entry) */
	bool pdpe1gb;       /* 1 GiB pages */
	bool pge;           /* global pages */
	bool smep;          /* supervisor-mode execution prevention */
	bool smap;          /* supervisor-mode access prevention */
	bool umip;          /* user-mode instruction prevention */
	bool la57;          /* 5-level paging (available, not used) */
	bool hypervisor;    /* running under a hypervisor such as QEMU */
	bool rdrand;        /* hardware random numbers */
	unsigned phys_bits; /* MAXPHYADDR */
	unsigned virt_bits;
};

extern struct cpu_features cpu;

/* Fills `cpu`. */
void cpu_detect(void);

/* 64 random bits: RDRAND where the CPU has it, otherwise the time-stamp counter stirred.  Good
 * enough to key the heap's pointer encoding per boot; not for cryptography. */
uint64_t cpu_random64(void);

/* Turns on CR4.PGE, SMEP, SMAP and UMIP where the CPU has them.  CR0.WP and EFER.NXE are set by
 * the 32-bit entry already. */
void cpu_enable_protections(void);

#endif
