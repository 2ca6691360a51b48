/*
 * Multiboot2 boot information parser.  The layout, from the Multiboot2 specification:
 *
 *   u32 total_size, u32 reserved, then tags.  A tag is u32 type, u32 size (which counts the
 *   8-byte tag header but not the padding after it), then its body; every tag starts on an
 *   8-byte boundary, and the list ends with a tag of type 0 and size 8.
 *
 * The bytes may come from a broken bootloader or from a fuzzer, so none is trusted.  total_size is
 * checked against the bytes available, every tag is checked against total_size by next_tag(), and
 * every field is read from inside a tag whose body length was checked first.  Fields are read with
 * memcpy: the input is a byte buffer, and reading it through a uint32_t pointer would break C's
 * aliasing rules even where the address happens to be aligned.
 */
#include <stdbool.h>

#include "lib/mem.h"
#include "mm/multiboot2.h"
#include "mm/page.h"

#define INFO_HEADER_SIZE 8   /* total_size, reserved */
#define TAG_HEADER_SIZE  8   /* type, size */
#define TAG_ALIGN        8
#define INFO_MIN_SIZE    (INFO_HEADER_SIZE + TAG_HEADER_SIZE)  /* the header and an end tag */

enum tag_type {
	TAG_END = 0,
	TAG_CMDLINE = 1,
	TAG_BOOTLOADER_NAME = 2,
	TAG_MODULE = 3,
	TAG_MEMORY_MAP = 6,
};

#define MODULE_FIXED_SIZE 8      /* u32 mod_start, u32 mod_end; the command line follows */
#define MMAP_FIXED_SIZE   8      /* u32 entry_size, u32 entry_version; the entries follow */
#define MMAP_ENTRY_MIN    24     /* u64 base, u64 length, u32 type, u32 reserved */

/* Memory-map entry types the kernel tells apart; every other value is reserved. */
enum mmap_type {
	MMAP_USABLE = 1,
	MMAP_ACPI_RECLAIMABLE = 3,
	MMAP_ACPI_NVS = 4,
	MMAP_BAD = 5,
};

struct tag {
	uint32_t type;
	const uint8_t *body;
	size_t len;  /* bytes of body: the tag's size minus its header */
};

/* Walks the tags of [info, info + end); `pos` is the offset of the next tag. */
struct tag_cursor {
	const uint8_t *info;
	size_t pos;
	size_t end;
};

/* The tags that may appear once, and whether they have. */
struct seen_tags {
	bool cmdline;
	bool bootloader_name;
	bool memory_map;
};

static uint32_t read_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

static uint64_t read_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

/* Checks the magic value, the alignment and total_size; on success stores total_size. */
static enum mb2_status check_header(uint32_t magic, const void *info, size_t avail, uint32_t *total_size)
{
	if (magic != MB2_BOOTLOADER_MAGIC)
		return MB2_ERR_BAD_MAGIC;
	if (!is_aligned((uintptr_t)info, TAG_ALIGN))
		return MB2_ERR_MISALIGNED;
	if (avail < INFO_HEADER_SIZE)
		return MB2_ERR_BAD_SIZE;
	*total_size = read_u32(info);
	if (*total_size < INFO_MIN_SIZE || *total_size > MB2_INFO_MAX || *total_size > avail)
		return MB2_ERR_BAD_SIZE;
	return MB2_OK;
}

/*
 * Reads the tag at the cursor into *tag and moves the cursor past it and its padding.
 * MB2_ERR_NO_END_TAG when the tags end cleanly at total_size without an end tag;
 * MB2_ERR_BAD_TAG when a tag's header or body does not fit, or its size is below its header's.
 */
static enum mb2_status next_tag(struct tag_cursor *c, struct tag *tag)
{
	size_t left = c->end - c->pos;
	uint32_t size;
	size_t step;

	if (left == 0)
		return MB2_ERR_NO_END_TAG;
	if (left < TAG_HEADER_SIZE)
		return MB2_ERR_BAD_TAG;
	tag->type = read_u32(c->info + c->pos);
	size = read_u32(c->info + c->pos + 4);
	if (size < TAG_HEADER_SIZE || size > left)
		return MB2_ERR_BAD_TAG;
	tag->body = c->info + c->pos + TAG_HEADER_SIZE;
	tag->len = size - TAG_HEADER_SIZE;
	/* The last tag's padding may be missing; then the cursor stops at the end. */
	step = align_up(size, TAG_ALIGN);
	c->pos += step < left ? step : left;
	return MB2_OK;
}

/* Copies the NUL-terminated string in [src, src + len) into dst, which holds `cap` bytes. */
static enum mb2_status copy_string(const uint8_t *src, size_t len, char *dst, size_t cap)
{
	size_t n = 0;

	while (n < len && src[n] != '\0')
		n++;
	if (n == len)
		return MB2_ERR_BAD_STRING;
	if (n >= cap)
		return MB2_ERR_STRING_TOO_LONG;
	memcpy(dst, src, n + 1);
	return MB2_OK;
}

/* A tag whose body is one string: the command line or the bootloader name. */
static enum mb2_status parse_string_tag(const struct tag *tag, bool *seen, char *dst, size_t cap)
{
	if (*seen)
		return MB2_ERR_DUPLICATE_TAG;
	*seen = true;
	return copy_string(tag->body, tag->len, dst, cap);
}

static enum mb2_status parse_module(const struct tag *tag, struct mb2_info *out)
{
	struct mb2_module *mod;
	enum mb2_status status;

	if (tag->len < MODULE_FIXED_SIZE)
		return MB2_ERR_BAD_TAG;
	if (out->module_count == MB2_MODULES_MAX)
		return MB2_ERR_TOO_MANY_MODULES;
	mod = &out->modules[out->module_count];
	mod->start = read_u32(tag->body);
	mod->end = read_u32(tag->body + 4);
	if (mod->end < mod->start)
		return MB2_ERR_BAD_MODULE;
	status = copy_string(tag->body + MODULE_FIXED_SIZE, tag->len - MODULE_FIXED_SIZE,
	                     mod->cmdline, sizeof mod->cmdline);
	if (status == MB2_OK)
		out->module_count++;
	return status;
}

static enum mem_kind kind_of_mmap_type(uint32_t type)
{
	switch (type) {
	case MMAP_USABLE:           return MEM_USABLE;
	case MMAP_ACPI_RECLAIMABLE: return MEM_ACPI_RECLAIMABLE;
	case MMAP_ACPI_NVS:         return MEM_ACPI_NVS;
	case MMAP_BAD:              return MEM_BAD;
	default:                    return MEM_RESERVED;  /* 2, and everything newer, e.g. 20 from UEFI */
	}
}

static void read_mmap_entry(const uint8_t *p, struct memmap_entry *e)
{
	e->base = read_u64(p);
	e->length = read_u64(p + 8);
	e->kind = kind_of_mmap_type(read_u32(p + 16));
}

static enum mb2_status parse_memory_map(const struct tag *tag, bool *seen, struct mb2_info *out)
{
	uint32_t entry_size;
	size_t entries_len, count;

	if (*seen)
		return MB2_ERR_DUPLICATE_TAG;
	*seen = true;
	if (tag->len < MMAP_FIXED_SIZE)
		return MB2_ERR_BAD_TAG;
	/* entry_version (the second field) is not checked: later versions of the format only append
	 * fields to an entry, and stepping by entry_size skips them. */
	entry_size = read_u32(tag->body);
	if (entry_size < MMAP_ENTRY_MIN || entry_size % 8 != 0)
		return MB2_ERR_BAD_MEMORY_MAP;
	entries_len = tag->len - MMAP_FIXED_SIZE;
	if (entries_len % entry_size != 0)
		return MB2_ERR_BAD_MEMORY_MAP;  /* a cut-off last entry: the map is not to be trusted */
	count = entries_len / entry_size;
	if (count > MB2_MMAP_MAX)
		return MB2_ERR_TOO_MANY_ENTRIES;
	for (size_t i = 0; i < count; i++)
		read_mmap_entry(tag->body + MMAP_FIXED_SIZE + i * entry_size, &out->mmap[i]);
	out->mmap_count = count;
	return MB2_OK;
}

/* Hands one tag to its parser; tags ferrite does not use are skipped. */
static enum mb2_status parse_tag(const struct tag *tag, struct seen_tags *seen, struct mb2_info *out)
{
	switch (tag->type) {
	case TAG_CMDLINE:
		return parse_string_tag(tag, &seen->cmdline, out->cmdline, sizeof out->cmdline);
	case TAG_BOOTLOADER_NAME:
		return parse_string_tag(tag, &seen->bootloader_name, out->bootloader, sizeof out->bootloader);
	case TAG_MODULE:
		return parse_module(tag, out);
	case TAG_MEMORY_MAP:
		return parse_memory_map(tag, &seen->memory_map, out);
	default:
		return MB2_OK;
	}
}

enum mb2_status mb2_parse(uint32_t magic, const void *info, size_t avail, struct mb2_info *out)
{
	struct seen_tags seen = { 0 };
	struct tag_cursor cursor;
	struct tag tag;
	uint32_t total_size;
	enum mb2_status status = check_header(magic, info, avail, &total_size);

	if (status != MB2_OK)
		return status;
	memset(out, 0, sizeof *out);
	out->total_size = total_size;
	cursor = (struct tag_cursor){ info, INFO_HEADER_SIZE, total_size };
	for (;;) {
		status = next_tag(&cursor, &tag);
		if (status != MB2_OK)
			return status;
		if (tag.type == TAG_END)
			break;
		status = parse_tag(&tag, &seen, out);
		if (status != MB2_OK)
			return status;
	}
	return seen.memory_map ? MB2_OK : MB2_ERR_NO_MEMORY_MAP;
}

const char *mb2_status_message(enum mb2_status status)
{
	switch (status) {
	case MB2_OK:                   return "ok";
	case MB2_ERR_BAD_MAGIC:        return "bad Multiboot2 magic value";
	case MB2_ERR_MISALIGNED:       return "boot information is not 8-byte aligned";
	case MB2_ERR_BAD_SIZE:         return "total_size too small, too large, or beyond the bytes given";
	case MB2_ERR_BAD_TAG:          return "a tag is shorter than its header or runs past the end";
	case MB2_ERR_NO_END_TAG:       return "the tags end without an end tag";
	case MB2_ERR_NO_MEMORY_MAP:    return "no memory map tag";
	case MB2_ERR_BAD_MEMORY_MAP:   return "bad memory map entry size, or the entries do not fill the tag";
	case MB2_ERR_TOO_MANY_ENTRIES: return "more than MB2_MMAP_MAX memory map entries";
	case MB2_ERR_TOO_MANY_MODULES: return "more than MB2_MODULES_MAX modules";
	case MB2_ERR_BAD_MODULE:       return "a module ends before it starts";
	case MB2_ERR_BAD_STRING:       return "a string is not NUL-terminated inside its tag";
	case MB2_ERR_STRING_TOO_LONG:  return "a string is too long";
	case MB2_ERR_DUPLICATE_TAG:    return "a second command line, bootloader name or memory map";
	}
	return "unknown Multiboot2 status";
}
