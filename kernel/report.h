#ifndef FERRITE_KERNEL_REPORT_H
#define FERRITE_KERNEL_REPORT_H

#include "mm/boot_info.h"

/* The boot report: CPU features, memory map, kernel placement, direct map, the tutorial's
 * paging demos and frame-allocator statistics. */
void report_boot(const struct boot_info *bi, uint64_t kmain_tsc);

#endif
