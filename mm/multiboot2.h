/*
 * Multiboot2 boot information parser.  Portable: it only reads the bytes it is given and copies
 * what the kernel needs into a fixed-size struct, so nothing points back into bootloader memory.
 * Every malformed input gives a status, never an out-of-bounds read.
 */
#ifndef FERRITE_MM_MULTIBOOT2_H
#define FERRITE_MM_MULTIBOOT2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm/memmap.h"

#define MB2_BOOTLOADER_MAGIC UINT32_C(0x36d76289)  /* in EAX at entry */

#define MB2_CMDLINE_MAX     512   /* bytes, including the terminating NUL */
#define MB2_NAME_MAX        64
#define MB2_MODULES_MAX     16
#define MB2_MODULE_NAME_MAX 128
#define MB2_MMAP_MAX        256   /* raw memory-map entries */
#define MB2_INFO_MAX        (1024 * 1024)  /* larger total_size values are rejected as corrupt */

struct mb2_module {
	uint64_t start;  /* [start, end), physical */
	uint64_t end;
	char cmdline[MB2_MODULE_NAME_MAX];
};

struct mb2_info {
	uint32_t total_size;                 /* bytes of boot information */
	char cmdline[MB2_CMDLINE_MAX];       /* "" when the tag is absent */
	char bootloader[MB2_NAME_MAX];       /* "" when the tag is absent */
	size_t mmap_count;
	struct memmap_entry mmap[MB2_MMAP_MAX];
	size_t module_count;
	struct mb2_module modules[MB2_MODULES_MAX];
};

enum mb2_status {
	MB2_OK,
	MB2_ERR_BAD_MAGIC,          /* EAX was not MB2_BOOTLOADER_MAGIC */
	MB2_ERR_MISALIGNED,         /* the information is not 8-byte aligned */
	MB2_ERR_BAD_SIZE,           /* total_size too small, too large, or beyond the bytes available */
	MB2_ERR_BAD_TAG,            /* a tag is shorter than its header or runs past the end */
	MB2_ERR_NO_END_TAG,         /* the tags end without an end tag */
	MB2_ERR_NO_MEMORY_MAP,      /* no memory-map tag */
	MB2_ERR_BAD_MEMORY_MAP,     /* entry size below 24 bytes or not a multiple of 8, or a cut-off entry */
	MB2_ERR_TOO_MANY_ENTRIES,   /* more than MB2_MMAP_MAX memory-map entries */
	MB2_ERR_TOO_MANY_MODULES,   /* more than MB2_MODULES_MAX modules */
	MB2_ERR_BAD_MODULE,         /* a module ends before it starts */
	MB2_ERR_BAD_STRING,         /* a string is not NUL-terminated inside its tag */
	MB2_ERR_STRING_TOO_LONG,    /* a string does not fit its buffer here */
	MB2_ERR_DUPLICATE_TAG,      /* a second command line, name or memory map */
};

/*
 * Parses the boot information at `info`, of which `avail` bytes may be read.  The magic value
 * from EAX is checked first.  On success fills `out`; on error `out` is unspecified.
 */
enum mb2_status mb2_parse(uint32_t magic, const void *info, size_t avail, struct mb2_info *out);

const char *mb2_status_message(enum mb2_status status);

#endif
