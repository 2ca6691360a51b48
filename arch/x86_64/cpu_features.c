#include "arch/x86_64/cpu_features.h"

#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "lib/mem.h"

struct cpu_features cpu;

enum { EAX, EBX, ECX, EDX };

static bool bit(uint32_t reg, unsigned n) { return (reg >> n) & 1; }

static void read_vendor_and_brand(void)
{
	uint32_t r[4];

	cpuid(0, 0, r);
	memcpy(cpu.vendor + 0, &r[EBX], 4);
	memcpy(cpu.vendor + 4, &r[EDX], 4);
	memcpy(cpu.vendor + 8, &r[ECX], 4);
	cpu.vendor[12] = 0;

	cpuid(0x80000000, 0, r);
	if (r[EAX] < 0x80000004) {
		memcpy(cpu.brand, "(no brand string)", 18);
		return;
	}
	for (uint32_t leaf = 0; leaf < 3; leaf++) {
		cpuid(0x80000002 + leaf, 0, r);
		memcpy(cpu.brand + 16 * leaf, r, 16);
	}
	cpu.brand[48] = 0;
}

void cpu_detect(void)
{
	uint32_t r[4];

	read_vendor_and_brand();

	cpuid(1, 0, r);
	cpu.pge = bit(r[EDX], 13);
	cpu.hypervisor = bit(r[ECX], 31);
	cpu.rdrand = bit(r[ECX], 30);

	cpuid(0, 0, r);
	if (r[EAX] >= 7) {
		cpuid(7, 0, r);
		cpu.smep = bit(r[EBX], 7);
		cpu.smap = bit(r[EBX], 20);
		cpu.umip = bit(r[ECX], 2);
		cpu.la57 = bit(r[ECX], 16);
	}

	cpuid(0x80000001, 0, r);
	cpu.nx = bit(r[EDX], 20);
	cpu.pdpe1gb = bit(r[EDX], 26);

	cpuid(0x80000000, 0, r);
	cpu.phys_bits = 36;   /* the architectural default when leaf 0x80000008 is missing */
	cpu.virt_bits = 48;
	if (r[EAX] >= 0x80000008) {
		cpuid(0x80000008, 0, r);
		cpu.phys_bits = r[EAX] & 0xff;
		cpu.virt_bits = (r[EAX] >> 8) & 0xff;
	}
}

static bool rdrand64(uint64_t *out)
{
	bool ok;

	__asm__ volatile("rdrand %0; setc %1" : "=r"(*out), "=qm"(ok));
	return ok;
}

uint64_t cpu_random64(void)
{
	uint64_t x;

	for (int tries = 0; cpu.rdrand && tries < 10; tries++)
		if (rdrand64(&x))
			return x;
	/* splitmix64's finalizer over the TSC: different every boot, if not unpredictable */
	x = rdtsc() + UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

void cpu_enable_protections(void)
{
	uint64_t cr4 = read_cr4();

	if (cpu.pge)
		cr4 |= CR4_PGE;
	if (cpu.smep)
		cr4 |= CR4_SMEP;
	if (cpu.smap)
		cr4 |= CR4_SMAP;
	if (cpu.umip)
		cr4 |= CR4_UMIP;
	write_cr4(cr4);
}
