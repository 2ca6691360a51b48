/*
 * Multiboot2 boot information writer for tests; see mb2_builder.h.  It knows the format from the
 * specification on its own, not from mm/multiboot2.c, so a test built with it can catch a parser
 * that misreads the specification.
 */
#include <string.h>

#include "host/support/mb2_builder.h"

#define HEADER_SIZE     8
#define TAG_HEADER_SIZE 8
#define ENTRY_SIZE      24
#define FILLER          0xa5

/* Reserves `len` more bytes and returns them; NULL, and overflow set, when they do not fit. */
static uint8_t *grow(struct mb2_builder *b, size_t len)
{
	uint8_t *p;

	if (b->overflow || len > b->cap - b->len) {
		b->overflow = true;
		return NULL;
	}
	p = b->buf + b->len;
	b->len += len;
	return p;
}

static void put(struct mb2_builder *b, const void *src, size_t len)
{
	uint8_t *p = grow(b, len);

	if (p)
		memcpy(p, src, len);
}

static void put_fill(struct mb2_builder *b, uint8_t byte, size_t len)
{
	uint8_t *p = grow(b, len);

	if (p)
		memset(p, byte, len);
}

static void put_u32(struct mb2_builder *b, uint32_t v) { put(b, &v, sizeof v); }

static void pad_to_8(struct mb2_builder *b) { put_fill(b, 0, (8 - b->len % 8) % 8); }

/* Writes a tag header with `size` and returns the tag's offset. */
static size_t begin_tag(struct mb2_builder *b, uint32_t type, uint32_t size)
{
	size_t offset = b->len;

	put_u32(b, type);
	put_u32(b, size);
	return offset;
}

void mb2_builder_init(struct mb2_builder *b, void *buf, size_t cap)
{
	*b = (struct mb2_builder){ .buf = buf, .cap = cap };
	put_fill(b, 0, HEADER_SIZE);
}

size_t mb2_builder_tag(struct mb2_builder *b, uint32_t type, const void *body, size_t len)
{
	size_t offset = begin_tag(b, type, (uint32_t)(TAG_HEADER_SIZE + len));

	if (body)
		put(b, body, len);
	else
		put_fill(b, 0, len);
	pad_to_8(b);
	return offset;
}

size_t mb2_builder_string(struct mb2_builder *b, uint32_t type, const char *s)
{
	return mb2_builder_tag(b, type, s, strlen(s) + 1);
}

size_t mb2_builder_module(struct mb2_builder *b, uint32_t start, uint32_t end, const char *cmdline)
{
	size_t len = strlen(cmdline) + 1;
	size_t offset = begin_tag(b, MB2_TAG_MODULE, (uint32_t)(TAG_HEADER_SIZE + 8 + len));

	put_u32(b, start);
	put_u32(b, end);
	put(b, cmdline, len);
	pad_to_8(b);
	return offset;
}

size_t mb2_builder_mmap_begin(struct mb2_builder *b, uint32_t entry_size)
{
	b->mmap_tag = begin_tag(b, MB2_TAG_MEMORY_MAP, 0);  /* size written by mmap_end */
	b->entry_size = entry_size;
	put_u32(b, entry_size);
	put_u32(b, 0);  /* entry_version */
	return b->mmap_tag;
}

void mb2_builder_mmap_entry(struct mb2_builder *b, uint64_t base, uint64_t length, uint32_t type)
{
	uint8_t entry[ENTRY_SIZE] = { 0 };

	memcpy(entry, &base, 8);
	memcpy(entry + 8, &length, 8);
	memcpy(entry + 16, &type, 4);
	if (b->entry_size <= ENTRY_SIZE) {
		put(b, entry, b->entry_size);
	} else {
		put(b, entry, ENTRY_SIZE);
		put_fill(b, FILLER, b->entry_size - ENTRY_SIZE);
	}
}

void mb2_builder_mmap_end(struct mb2_builder *b)
{
	mb2_builder_put_u32(b, b->mmap_tag + 4, (uint32_t)(b->len - b->mmap_tag));
	pad_to_8(b);
	b->mmap_tag = 0;
}

size_t mb2_builder_finish_without_end_tag(struct mb2_builder *b)
{
	mb2_builder_put_u32(b, 0, (uint32_t)b->len);
	return b->overflow ? 0 : b->len;
}

size_t mb2_builder_finish(struct mb2_builder *b)
{
	begin_tag(b, MB2_TAG_END, TAG_HEADER_SIZE);
	return mb2_builder_finish_without_end_tag(b);
}

void mb2_builder_put_u32(struct mb2_builder *b, size_t offset, uint32_t value)
{
	if (b->overflow || offset > b->len || b->len - offset < sizeof value) {
		b->overflow = true;
		return;
	}
	memcpy(b->buf + offset, &value, sizeof value);
}
