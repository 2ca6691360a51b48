/*
 * Memory access that survives a fault.  A probe reads or writes one value; if that faults, the
 * exception handler resumes the probe at its fix-up, which returns false, and the fault is kept
 * for probe_last_fault().  The monitor's `read` and the paging tests use probes to touch
 * addresses that may be unmapped or read-only.
 */
#ifndef FERRITE_ARCH_PROBE_H
#define FERRITE_ARCH_PROBE_H

#include <stdbool.h>
#include <stdint.h>

struct probe_fault {
	unsigned vector;    /* VEC_PAGE_FAULT or VEC_GP */
	uint64_t addr;      /* CR2, for a page fault */
	uint64_t error;     /* the CPU's error code */
};

bool probe_read8(uint64_t addr, uint8_t *out);
bool probe_write8(uint64_t addr, uint8_t value);
bool probe_read64(uint64_t addr, uint64_t *out);
bool probe_write64(uint64_t addr, uint64_t value);

/* The fault the last failed probe met. */
struct probe_fault probe_last_fault(void);

#endif
