/*
 * Writes Multiboot2 boot information into a caller's buffer, for tests and fuzz seeds: real
 * binary input instead of hand-counted bytes.  Tags are padded to 8 bytes as the specification
 * asks; mb2_builder_finish() adds the end tag and fills in total_size.
 *
 *   struct mb2_builder b;
 *   mb2_builder_init(&b, buf, sizeof buf);           // buf must be 8-byte aligned
 *   mb2_builder_string(&b, MB2_TAG_CMDLINE, "console=serial");
 *   mb2_builder_mmap_begin(&b, 24);
 *   mb2_builder_mmap_entry(&b, 0, 0x9fc00, 1);
 *   mb2_builder_mmap_end(&b);
 *   size_t size = mb2_builder_finish(&b);           // 0 if the buffer was too small
 *
 * Hostile inputs are built the same way and then bent: any tag body, any entry size, no end
 * tag, or any 32-bit field overwritten with mb2_builder_put_u32().
 */
#ifndef FERRITE_HOST_MB2_BUILDER_H
#define FERRITE_HOST_MB2_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Tag types, from the Multiboot2 specification. */
#define MB2_TAG_END             0
#define MB2_TAG_CMDLINE         1
#define MB2_TAG_BOOTLOADER_NAME 2
#define MB2_TAG_MODULE          3
#define MB2_TAG_MEMORY_MAP      6
#define MB2_TAG_EFI_MEMORY_MAP  17

/* Memory-map entry types. */
#define MB2_MMAP_USABLE           1
#define MB2_MMAP_RESERVED         2
#define MB2_MMAP_ACPI_RECLAIMABLE 3
#define MB2_MMAP_ACPI_NVS         4
#define MB2_MMAP_BAD              5

struct mb2_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;             /* bytes written so far, always a multiple of 8 between tags */
	size_t mmap_tag;        /* offset of the open memory-map tag; 0 when none is open */
	uint32_t entry_size;    /* of the open memory map */
	bool overflow;          /* something did not fit: finish returns 0 */
};

/* Starts boot information in [buf, buf + cap): the 8-byte header, total_size still 0. */
void mb2_builder_init(struct mb2_builder *b, void *buf, size_t cap);

/* Appends a tag whose body is [body, body + len), or `len` zeros if body is NULL; returns its offset. */
size_t mb2_builder_tag(struct mb2_builder *b, uint32_t type, const void *body, size_t len);

/* Appends a tag whose body is the string `s` and its NUL. */
size_t mb2_builder_string(struct mb2_builder *b, uint32_t type, const char *s);

/* Appends a module tag for [start, end) with the command line `cmdline`. */
size_t mb2_builder_module(struct mb2_builder *b, uint32_t start, uint32_t end, const char *cmdline);

/* Opens a memory-map tag whose entries take `entry_size` bytes each; returns the tag's offset. */
size_t mb2_builder_mmap_begin(struct mb2_builder *b, uint32_t entry_size);

/*
 * Appends an entry to the open memory map: the 24-byte entry, cut to entry_size when that is
 * smaller, or followed by 0xa5 filler bytes up to entry_size when larger.
 */
void mb2_builder_mmap_entry(struct mb2_builder *b, uint64_t base, uint64_t length, uint32_t type);

/* Closes the open memory-map tag: writes its size and pads it. */
void mb2_builder_mmap_end(struct mb2_builder *b);

/* Appends the end tag and writes total_size; returns total_size, or 0 if anything overflowed. */
size_t mb2_builder_finish(struct mb2_builder *b);

/* Writes total_size without an end tag (for hostile tests); 0 if anything overflowed. */
size_t mb2_builder_finish_without_end_tag(struct mb2_builder *b);

/* Overwrites the 32-bit little-endian field at `offset` (for hostile tests). */
void mb2_builder_put_u32(struct mb2_builder *b, size_t offset, uint32_t value);

#endif
