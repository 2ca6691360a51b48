#ifndef FERRITE_KERNEL_KMAIN_H
#define FERRITE_KERNEL_KMAIN_H

#include "mm/boot_info.h"

/* What the boot path handed over; valid for the kernel's lifetime. */
extern const struct boot_info *boot_info;

/* The kernel proper, entered once with the boot path's page tables live. */
_Noreturn void kmain(const struct boot_info *bi);

#endif
