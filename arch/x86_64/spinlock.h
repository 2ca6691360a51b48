/*
 * A spinlock that also masks interrupts while held, so an interrupt handler that needs the same
 * lock cannot deadlock against the code it interrupted.  Ferrite runs on one CPU today; the lock
 * is still a real one (an atomic exchange), so the code it protects is ready for more.
 */
#ifndef FERRITE_ARCH_SPINLOCK_H
#define FERRITE_ARCH_SPINLOCK_H

#include <stdbool.h>

#include "arch/x86_64/cpu.h"

struct spinlock {
	volatile int locked;
};

/* Masks interrupts, takes the lock, and returns whether interrupts were enabled. */
static inline bool spin_lock_irqsave(struct spinlock *l)
{
	bool enabled = irq_save();

	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (l->locked)
			cpu_relax();
	return enabled;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, bool enabled)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	irq_restore(enabled);
}

#endif
