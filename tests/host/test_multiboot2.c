/*
 * mb2_parse against real GRUB boot information, against inputs built with the test builder, and
 * against hostile bytes.  Every parse runs on a heap copy of exactly the bytes it may read, so the
 * ASan build turns any read outside them into a crash.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "host/support/grub_boot_info.h"
#include "host/support/mb2_builder.h"
#include "lib/rng.h"
#include "lib/compiler.h"
#include "mm/multiboot2.h"

static struct mb2_info info;
static _Alignas(8) uint8_t buf[65536];

/* Parses a heap copy of [src, src + avail) whose block ends right after the last byte. */
static enum mb2_status parse_bytes(const void *src, size_t avail)
{
	uint8_t *copy = malloc(avail ? avail : 1);
	enum mb2_status status;

	cr_assert_not_null(copy);
	memcpy(copy, src, avail);
	status = mb2_parse(MB2_BOOTLOADER_MAGIC, copy, avail, &info);
	free(copy);
	return status;
}

static void expect_status(enum mb2_status got, enum mb2_status want)
{
	cr_assert_eq(got, want, "status \"%s\", want \"%s\"", mb2_status_message(got), mb2_status_message(want));
}

/* Finishes the builder and expects `want` from parsing the result. */
static void expect_parse(struct mb2_builder *b, enum mb2_status want)
{
	size_t size = mb2_builder_finish(b);

	cr_assert_neq(size, 0, "builder overflow");
	expect_status(parse_bytes(b->buf, size), want);
}

static struct mb2_builder builder(void)
{
	struct mb2_builder b;

	mb2_builder_init(&b, buf, sizeof buf);
	return b;
}

/* The memory map most tests use: 639 KiB of low memory and 127 MiB from 1 MiB. */
static void add_small_mmap(struct mb2_builder *b)
{
	mb2_builder_mmap_begin(b, 24);
	mb2_builder_mmap_entry(b, 0, 0x9fc00, MB2_MMAP_USABLE);
	mb2_builder_mmap_entry(b, 0x100000, 0x7f00000, MB2_MMAP_USABLE);
	mb2_builder_mmap_end(b);
}

static void expect_entry(size_t i, uint64_t base, uint64_t length, enum mem_kind kind)
{
	const struct memmap_entry *e = &info.mmap[i];

	cr_assert(e->base == base && e->length == length && e->kind == kind,
	          "entry %zu: %#" PRIx64 " + %#" PRIx64 " %s, want %#" PRIx64 " + %#" PRIx64 " %s", i, e->base,
	          e->length, mem_kind_name(e->kind), base, length, mem_kind_name(kind));
}

static void expect_module(size_t i, uint64_t start, uint64_t end, const char *cmdline)
{
	cr_assert_eq(info.modules[i].start, start, "module %zu start", i);
	cr_assert_eq(info.modules[i].end, end, "module %zu end", i);
	cr_assert_str_eq(info.modules[i].cmdline, cmdline, "module %zu", i);
}

/* ---- real boot information ----------------------------------------------------------------- */

Test(multiboot2, grub_bios_4g)
{
	expect_status(parse_bytes(grub_bios_4g_info, sizeof grub_bios_4g_info), MB2_OK);
	cr_assert_eq(info.total_size, sizeof grub_bios_4g_info);
	cr_assert_str_eq(info.cmdline, "console=serial mem=test");
	cr_assert_str_eq(info.bootloader, "GRUB 2.06-13+deb12u2");
	cr_assert_eq(info.module_count, 1);
	expect_module(0, 0x101000, 0x101084, "initrd-config");
	cr_assert_eq(info.mmap_count, 8);
	expect_entry(0, 0x0, 0x9fc00, MEM_USABLE);
	expect_entry(1, 0x9fc00, 0x400, MEM_RESERVED);
	expect_entry(2, 0xf0000, 0x10000, MEM_RESERVED);
	expect_entry(3, 0x100000, 0xbfee0000, MEM_USABLE);
	expect_entry(4, 0xbffe0000, 0x20000, MEM_RESERVED);
	expect_entry(5, 0xfffc0000, 0x40000, MEM_RESERVED);
	expect_entry(6, 0x100000000, 0x40000000, MEM_USABLE);
	expect_entry(7, 0xfd00000000, 0x300000000, MEM_RESERVED);  /* the HyperTransport hole */
}

Test(multiboot2, grub_uefi_4g)
{
	static const struct memmap_entry want[] = {
		{ 0x0, 0xa0000, MEM_USABLE },
		{ 0x100000, 0x700000, MEM_USABLE },
		{ 0x800000, 0x8000, MEM_ACPI_NVS },
		{ 0x808000, 0x3000, MEM_USABLE },
		{ 0x80b000, 0x1000, MEM_ACPI_NVS },
		{ 0x80c000, 0x4000, MEM_USABLE },
		{ 0x810000, 0xf0000, MEM_ACPI_NVS },
		{ 0x900000, 0xbe5bb000, MEM_USABLE },
		{ 0xbeebb000, 0xc1000, MEM_RESERVED },
		{ 0xbef7c000, 0x971000, MEM_USABLE },
		{ 0xbf8ed000, 0x100000, MEM_RESERVED },
		{ 0xbf9ed000, 0x100000, MEM_RESERVED },  /* type 20: EFI runtime services code */
		{ 0xbfaed000, 0x80000, MEM_RESERVED },
		{ 0xbfb6d000, 0x12000, MEM_ACPI_RECLAIMABLE },
		{ 0xbfb7f000, 0x80000, MEM_ACPI_NVS },
		{ 0xbfbff000, 0x359000, MEM_USABLE },
		{ 0xbff58000, 0x20000, MEM_RESERVED },
		{ 0xbff78000, 0x88000, MEM_ACPI_NVS },
		{ 0x100000000, 0x40000000, MEM_USABLE },
	};

	expect_status(parse_bytes(grub_uefi_4g_info, sizeof grub_uefi_4g_info), MB2_OK);
	cr_assert_eq(info.total_size, sizeof grub_uefi_4g_info);
	cr_assert_str_eq(info.cmdline, "console=serial mem=test");
	cr_assert_str_eq(info.bootloader, "GRUB 2.06-13+deb12u2");
	cr_assert_eq(info.module_count, 1);
	expect_module(0, 0x4000, 0x4084, "initrd-config");
	cr_assert_eq(info.mmap_count, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		expect_entry(i, want[i].base, want[i].length, want[i].kind);
}

/* True if `cut` falls strictly inside one of the tags of well-formed boot information. */
static bool inside_a_tag(const uint8_t *blob, size_t cut)
{
	for (size_t start = 8;;) {
		uint32_t type, size;

		memcpy(&type, blob + start, 4);
		memcpy(&size, blob + start + 4, 4);
		if (start < cut && cut < start + size)
			return true;
		if (type == MB2_TAG_END || start + size >= cut)
			return false;
		start = (start + size + 7) & ~(size_t)7;
	}
}

/*
 * Cuts real boot information short at every length (total_size says so too).  Below 16 bytes
 * total_size is too small; a cut inside a tag leaves that tag running past the end; a cut between
 * tags (at a tag's start or in padding) leaves tags that end without an end tag.
 */
static void check_every_truncation(const uint8_t *blob, size_t size)
{
	uint8_t *copy = malloc(size);

	cr_assert_not_null(copy);
	memcpy(copy, blob, size);
	for (size_t cut = 0; cut < size; cut++) {
		enum mb2_status want = cut < 16 ? MB2_ERR_BAD_SIZE
		                     : inside_a_tag(blob, cut) ? MB2_ERR_BAD_TAG : MB2_ERR_NO_END_TAG;
		enum mb2_status got;

		memcpy(copy, &(uint32_t){ (uint32_t)cut }, 4);
		got = parse_bytes(copy, cut);
		cr_assert_eq(got, want, "cut at %zu: \"%s\", want \"%s\"", cut, mb2_status_message(got),
		             mb2_status_message(want));
	}
	free(copy);
}

Test(multiboot2, grub_info_cut_at_every_length)
{
	check_every_truncation(grub_bios_4g_info, sizeof grub_bios_4g_info);
	check_every_truncation(grub_uefi_4g_info, sizeof grub_uefi_4g_info);
}

/* ---- well-formed input --------------------------------------------------------------------- */

Test(multiboot2, memory_map_alone_is_enough)
{
	struct mb2_builder b = builder();

	add_small_mmap(&b);
	expect_parse(&b, MB2_OK);
	cr_assert_str_eq(info.cmdline, "");
	cr_assert_str_eq(info.bootloader, "");
	cr_assert_eq(info.module_count, 0);
	cr_assert_eq(info.mmap_count, 2);
	expect_entry(0, 0, 0x9fc00, MEM_USABLE);
	expect_entry(1, 0x100000, 0x7f00000, MEM_USABLE);
}

Test(multiboot2, every_memory_type_maps_to_its_kind)
{
	static const struct { uint32_t type; enum mem_kind kind; } types[] = {
		{ 1, MEM_USABLE }, { 2, MEM_RESERVED }, { 3, MEM_ACPI_RECLAIMABLE }, { 4, MEM_ACPI_NVS },
		{ 5, MEM_BAD }, { 0, MEM_RESERVED }, { 6, MEM_RESERVED }, { 20, MEM_RESERVED },
		{ UINT32_MAX, MEM_RESERVED },
	};
	struct mb2_builder b = builder();

	mb2_builder_mmap_begin(&b, 24);
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		mb2_builder_mmap_entry(&b, i * 0x1000, 0x1000, types[i].type);
	mb2_builder_mmap_end(&b);
	expect_parse(&b, MB2_OK);
	cr_assert_eq(info.mmap_count, ARRAY_SIZE(types));
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		expect_entry(i, i * 0x1000, 0x1000, types[i].kind);
}

Test(multiboot2, larger_entry_size_is_used_as_the_stride)
{
	for (uint32_t entry_size = 32; entry_size <= 64; entry_size += 8) {
		struct mb2_builder b = builder();

		mb2_builder_mmap_begin(&b, entry_size);
		mb2_builder_mmap_entry(&b, 0x1000, 0x2000, MB2_MMAP_USABLE);
		mb2_builder_mmap_entry(&b, 0x5000, 0x6000, MB2_MMAP_BAD);
		mb2_builder_mmap_entry(&b, UINT64_MAX, UINT64_MAX, MB2_MMAP_ACPI_NVS);
		mb2_builder_mmap_end(&b);
		expect_parse(&b, MB2_OK);
		cr_assert_eq(info.mmap_count, 3, "entry size %u", entry_size);
		expect_entry(0, 0x1000, 0x2000, MEM_USABLE);
		expect_entry(1, 0x5000, 0x6000, MEM_BAD);
		expect_entry(2, UINT64_MAX, UINT64_MAX, MEM_ACPI_NVS);
	}
}

Test(multiboot2, strings_and_modules_are_copied)
{
	struct mb2_builder b = builder();

	mb2_builder_string(&b, MB2_TAG_CMDLINE, "paging=recursive quiet");
	mb2_builder_string(&b, MB2_TAG_BOOTLOADER_NAME, "ferrite test builder");
	mb2_builder_module(&b, 0x200000, 0x201000, "first");
	add_small_mmap(&b);
	mb2_builder_module(&b, 0x300000, 0x300000, "");  /* empty module, empty name: both legal */
	mb2_builder_module(&b, 0, UINT32_MAX, "whole 32-bit space");
	expect_parse(&b, MB2_OK);
	cr_assert_str_eq(info.cmdline, "paging=recursive quiet");
	cr_assert_str_eq(info.bootloader, "ferrite test builder");
	cr_assert_eq(info.module_count, 3);
	expect_module(0, 0x200000, 0x201000, "first");
	expect_module(1, 0x300000, 0x300000, "");
	expect_module(2, 0, UINT32_MAX, "whole 32-bit space");
}

Test(multiboot2, string_ends_at_its_first_nul)
{
	struct mb2_builder b = builder();

	mb2_builder_tag(&b, MB2_TAG_CMDLINE, "abc\0xyz", 7);  /* no NUL after xyz: must not matter */
	add_small_mmap(&b);
	expect_parse(&b, MB2_OK);
	cr_assert_str_eq(info.cmdline, "abc");
}

Test(multiboot2, unknown_tags_of_any_size_are_skipped)
{
	static const uint8_t junk[64] = { 0xff, 0xff, 0xff, 0xff, 1, 2, 3 };
	struct mb2_builder b = builder();

	mb2_builder_tag(&b, 21, junk, 4);
	mb2_builder_tag(&b, MB2_TAG_EFI_MEMORY_MAP, junk, 64);
	mb2_builder_tag(&b, 99, NULL, 0);   /* header only */
	add_small_mmap(&b);
	mb2_builder_tag(&b, UINT32_MAX, junk, 1);  /* seven bytes of padding follow */
	mb2_builder_tag(&b, 8, junk, 13);
	expect_parse(&b, MB2_OK);
	cr_assert_eq(info.mmap_count, 2);
}

Test(multiboot2, bytes_after_the_end_tag_are_ignored)
{
	struct mb2_builder b = builder();
	size_t size;

	add_small_mmap(&b);
	mb2_builder_tag(&b, MB2_TAG_END, NULL, 0);
	mb2_builder_put_u32(&b, mb2_builder_tag(&b, MB2_TAG_CMDLINE, "x", 1) + 4, 3);  /* a broken tag */
	size = mb2_builder_finish_without_end_tag(&b);
	expect_status(parse_bytes(buf, size), MB2_OK);
	cr_assert_str_eq(info.cmdline, "");
}

Test(multiboot2, empty_memory_map_is_parsed)
{
	struct mb2_builder b = builder();

	mb2_builder_mmap_begin(&b, 24);
	mb2_builder_mmap_end(&b);
	expect_parse(&b, MB2_OK);
	cr_assert_eq(info.mmap_count, 0);
}

Test(multiboot2, exactly_the_maximum_entries_and_modules_fit)
{
	struct mb2_builder b = builder();

	mb2_builder_mmap_begin(&b, 24);
	for (uint64_t i = 0; i < MB2_MMAP_MAX; i++)
		mb2_builder_mmap_entry(&b, i << 12, 0x1000, MB2_MMAP_USABLE);
	mb2_builder_mmap_end(&b);
	for (uint32_t i = 0; i < MB2_MODULES_MAX; i++)
		mb2_builder_module(&b, i, i + 1, "m");
	expect_parse(&b, MB2_OK);
	cr_assert_eq(info.mmap_count, MB2_MMAP_MAX);
	cr_assert_eq(info.module_count, MB2_MODULES_MAX);
	expect_entry(MB2_MMAP_MAX - 1, (uint64_t)(MB2_MMAP_MAX - 1) << 12, 0x1000, MEM_USABLE);
	expect_module(MB2_MODULES_MAX - 1, MB2_MODULES_MAX - 1, MB2_MODULES_MAX, "m");
}

/* A string of `len` 'x' characters. */
static const char *xs(size_t len)
{
	static char s[1024];

	cr_assert_lt(len, sizeof s);
	memset(s, 'x', len);
	s[len] = '\0';
	return s;
}

Test(multiboot2, longest_strings_fit_one_more_is_too_long)
{
	struct mb2_builder b = builder();

	mb2_builder_string(&b, MB2_TAG_CMDLINE, xs(MB2_CMDLINE_MAX - 1));
	mb2_builder_string(&b, MB2_TAG_BOOTLOADER_NAME, xs(MB2_NAME_MAX - 1));
	mb2_builder_module(&b, 0, 1, xs(MB2_MODULE_NAME_MAX - 1));
	add_small_mmap(&b);
	expect_parse(&b, MB2_OK);
	cr_assert_eq(strlen(info.cmdline), MB2_CMDLINE_MAX - 1);
	cr_assert_eq(strlen(info.bootloader), MB2_NAME_MAX - 1);
	cr_assert_eq(strlen(info.modules[0].cmdline), MB2_MODULE_NAME_MAX - 1);

	b = builder();
	mb2_builder_string(&b, MB2_TAG_CMDLINE, xs(MB2_CMDLINE_MAX));
	add_small_mmap(&b);
	expect_parse(&b, MB2_ERR_STRING_TOO_LONG);

	b = builder();
	mb2_builder_string(&b, MB2_TAG_BOOTLOADER_NAME, xs(MB2_NAME_MAX));
	add_small_mmap(&b);
	expect_parse(&b, MB2_ERR_STRING_TOO_LONG);

	b = builder();
	add_small_mmap(&b);
	mb2_builder_module(&b, 0, 1, xs(MB2_MODULE_NAME_MAX));
	expect_parse(&b, MB2_ERR_STRING_TOO_LONG);
}

/* ---- the header ---------------------------------------------------------------------------- */

Test(multiboot2, wrong_magic_is_refused_before_anything_is_read)
{
	const uint32_t magics[] = { 0, 0x2badb002 /* Multiboot1 */, MB2_BOOTLOADER_MAGIC ^ 1, UINT32_MAX };

	for (size_t i = 0; i < ARRAY_SIZE(magics); i++)
		expect_status(mb2_parse(magics[i], NULL, 4096, &info), MB2_ERR_BAD_MAGIC);
}

Test(multiboot2, misaligned_information_is_refused)
{
	static _Alignas(8) uint8_t shifted[4096 + 8];
	struct mb2_builder b = builder();
	size_t size;

	add_small_mmap(&b);
	size = mb2_builder_finish(&b);
	for (size_t shift = 1; shift < 8; shift++) {
		memcpy(shifted + shift, buf, size);
		expect_status(mb2_parse(MB2_BOOTLOADER_MAGIC, shifted + shift, size, &info), MB2_ERR_MISALIGNED);
	}
	memcpy(shifted + 8, buf, size);
	expect_status(mb2_parse(MB2_BOOTLOADER_MAGIC, shifted + 8, size, &info), MB2_OK);
}

Test(multiboot2, fewer_than_eight_bytes_available)
{
	static const uint8_t header[8] = { 16 };

	for (size_t avail = 0; avail < 8; avail++)
		expect_status(parse_bytes(header, avail), MB2_ERR_BAD_SIZE);
}

Test(multiboot2, total_size_too_small)
{
	const uint32_t sizes[] = { 0, 1, 8, 15 };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct mb2_builder b = builder();
		size_t size;

		add_small_mmap(&b);
		size = mb2_builder_finish(&b);
		mb2_builder_put_u32(&b, 0, sizes[i]);
		expect_status(parse_bytes(buf, size), MB2_ERR_BAD_SIZE);
	}
}

Test(multiboot2, total_size_beyond_the_bytes_available)
{
	struct mb2_builder b = builder();
	size_t size;

	add_small_mmap(&b);
	size = mb2_builder_finish(&b);
	expect_status(parse_bytes(buf, size - 1), MB2_ERR_BAD_SIZE);
	mb2_builder_put_u32(&b, 0, UINT32_MAX);
	expect_status(parse_bytes(buf, size), MB2_ERR_BAD_SIZE);
}

/* total_size is checked against MB2_INFO_MAX even when that many bytes are really there. */
Test(multiboot2, total_size_above_the_maximum)
{
	uint8_t *big = aligned_alloc(8, MB2_INFO_MAX + 8);
	struct mb2_builder b;
	size_t filler;

	cr_assert_not_null(big);
	mb2_builder_init(&b, big, MB2_INFO_MAX + 8);
	add_small_mmap(&b);
	filler = MB2_INFO_MAX - b.len - 8 - 8;  /* what is left but the filler's header and the end tag */
	mb2_builder_tag(&b, 100, NULL, filler);
	cr_assert_eq(mb2_builder_finish(&b), MB2_INFO_MAX);
	expect_status(mb2_parse(MB2_BOOTLOADER_MAGIC, big, MB2_INFO_MAX, &info), MB2_OK);

	mb2_builder_init(&b, big, MB2_INFO_MAX + 8);
	add_small_mmap(&b);
	mb2_builder_tag(&b, 100, NULL, filler + 8);
	cr_assert_eq(mb2_builder_finish(&b), MB2_INFO_MAX + 8);
	expect_status(mb2_parse(MB2_BOOTLOADER_MAGIC, big, MB2_INFO_MAX + 8, &info), MB2_ERR_BAD_SIZE);
	free(big);
}

/* ---- broken tags --------------------------------------------------------------------------- */

Test(multiboot2, tag_size_below_its_header, .timeout = 10)
{
	for (uint32_t size = 0; size < 8; size++) {
		struct mb2_builder b = builder();
		size_t tag = mb2_builder_tag(&b, 77, NULL, 8);

		add_small_mmap(&b);
		mb2_builder_put_u32(&b, tag + 4, size);  /* size 0 would loop forever if accepted */
		expect_parse(&b, MB2_ERR_BAD_TAG);
	}
}

Test(multiboot2, tag_running_past_total_size)
{
	/* The tag is followed by the end tag: 24 bytes from its start to total_size. */
	const uint32_t sizes[] = { 25, 32, 0x10000, UINT32_MAX };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct mb2_builder b = builder();
		size_t tag, size;

		add_small_mmap(&b);
		tag = mb2_builder_tag(&b, 77, NULL, 8);
		size = mb2_builder_finish(&b);
		cr_assert_eq(size - tag, 24);
		mb2_builder_put_u32(&b, tag + 4, sizes[i]);
		expect_status(parse_bytes(buf, size), MB2_ERR_BAD_TAG);
	}
}

Test(multiboot2, tag_header_cut_by_total_size)
{
	for (size_t cut = 1; cut < 8; cut++) {
		struct mb2_builder b = builder();
		size_t size;

		add_small_mmap(&b);
		size = mb2_builder_finish_without_end_tag(&b) + cut;  /* part of an end tag's header */
		mb2_builder_put_u32(&b, 0, (uint32_t)size);
		expect_status(parse_bytes(buf, size), MB2_ERR_BAD_TAG);
	}
}

Test(multiboot2, missing_end_tag)
{
	struct mb2_builder b = builder();
	size_t size;

	add_small_mmap(&b);
	size = mb2_builder_finish_without_end_tag(&b);
	expect_status(parse_bytes(buf, size), MB2_ERR_NO_END_TAG);
}

Test(multiboot2, last_tag_without_its_padding_and_no_end_tag)
{
	struct mb2_builder b = builder();
	size_t size;

	add_small_mmap(&b);
	mb2_builder_string(&b, MB2_TAG_CMDLINE, "abc");  /* 12 bytes, padded to 16 */
	size = mb2_builder_finish_without_end_tag(&b) - 4;
	mb2_builder_put_u32(&b, 0, (uint32_t)size);
	expect_status(parse_bytes(buf, size), MB2_ERR_NO_END_TAG);
}

Test(multiboot2, end_tag_only_has_no_memory_map)
{
	struct mb2_builder b = builder();

	expect_parse(&b, MB2_ERR_NO_MEMORY_MAP);
}

Test(multiboot2, missing_memory_map)
{
	struct mb2_builder b = builder();

	mb2_builder_string(&b, MB2_TAG_CMDLINE, "console=serial");
	mb2_builder_module(&b, 0x100000, 0x200000, "initrd");
	expect_parse(&b, MB2_ERR_NO_MEMORY_MAP);
}

/* ---- broken memory maps -------------------------------------------------------------------- */

Test(multiboot2, bad_entry_sizes)
{
	const uint32_t sizes[] = { 0, 1, 8, 16, 20, 23, 28, 36, UINT32_MAX };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct mb2_builder b = builder();
		size_t tag = mb2_builder_mmap_begin(&b, 24);

		for (int e = 0; e < 6; e++)  /* 144 bytes of entries: a whole number of 8, 16, 36, ... */
			mb2_builder_mmap_entry(&b, e * 0x100000, 0x100000, MB2_MMAP_USABLE);
		mb2_builder_mmap_end(&b);
		mb2_builder_put_u32(&b, tag + 8, sizes[i]);
		expect_parse(&b, MB2_ERR_BAD_MEMORY_MAP);
	}
}

Test(multiboot2, memory_map_tag_without_its_fixed_fields)
{
	static const uint8_t body[8] = { 24 };

	for (size_t len = 0; len < 8; len++) {
		struct mb2_builder b = builder();

		mb2_builder_tag(&b, MB2_TAG_MEMORY_MAP, body, len);
		expect_parse(&b, MB2_ERR_BAD_TAG);
	}
}

Test(multiboot2, cut_off_last_entry)
{
	for (uint32_t cut = 1; cut < 24; cut++) {
		struct mb2_builder b = builder();
		size_t tag = mb2_builder_mmap_begin(&b, 24);

		mb2_builder_mmap_entry(&b, 0, 0x100000, MB2_MMAP_USABLE);
		mb2_builder_mmap_entry(&b, 0x100000, 0x100000, MB2_MMAP_USABLE);
		mb2_builder_mmap_end(&b);
		mb2_builder_put_u32(&b, tag + 4, 16 + 2 * 24 - cut);
		expect_parse(&b, MB2_ERR_BAD_MEMORY_MAP);
	}
}

Test(multiboot2, one_entry_too_many)
{
	struct mb2_builder b = builder();

	mb2_builder_mmap_begin(&b, 24);
	for (uint64_t i = 0; i <= MB2_MMAP_MAX; i++)
		mb2_builder_mmap_entry(&b, i << 12, 0x1000, MB2_MMAP_USABLE);
	mb2_builder_mmap_end(&b);
	expect_parse(&b, MB2_ERR_TOO_MANY_ENTRIES);
}

Test(multiboot2, duplicate_memory_map)
{
	struct mb2_builder b = builder();

	add_small_mmap(&b);
	add_small_mmap(&b);
	expect_parse(&b, MB2_ERR_DUPLICATE_TAG);
}

/* ---- broken modules and strings ------------------------------------------------------------ */

Test(multiboot2, one_module_too_many)
{
	struct mb2_builder b = builder();

	add_small_mmap(&b);
	for (uint32_t i = 0; i <= MB2_MODULES_MAX; i++)
		mb2_builder_module(&b, i, i + 1, "m");
	expect_parse(&b, MB2_ERR_TOO_MANY_MODULES);
}

Test(multiboot2, module_ending_before_it_starts)
{
	struct mb2_builder b = builder();

	add_small_mmap(&b);
	mb2_builder_module(&b, 0x200000, 0x1fffff, "backwards");
	expect_parse(&b, MB2_ERR_BAD_MODULE);
}

Test(multiboot2, module_tag_without_its_fixed_fields)
{
	static const uint8_t body[8] = { 0 };

	for (size_t len = 0; len < 8; len++) {
		struct mb2_builder b = builder();

		add_small_mmap(&b);
		mb2_builder_tag(&b, MB2_TAG_MODULE, body, len);
		expect_parse(&b, MB2_ERR_BAD_TAG);
	}
}

Test(multiboot2, strings_without_nul)
{
	/* A module tag with no string bytes at all, then each string tag cut before its NUL. */
	static const uint8_t bare_module[8] = { 0, 0, 0x10, 0, 0, 0, 0x20, 0 };
	const uint32_t string_tags[] = { MB2_TAG_CMDLINE, MB2_TAG_BOOTLOADER_NAME };
	struct mb2_builder b = builder();

	add_small_mmap(&b);
	mb2_builder_tag(&b, MB2_TAG_MODULE, bare_module, sizeof bare_module);
	expect_parse(&b, MB2_ERR_BAD_STRING);

	b = builder();
	add_small_mmap(&b);
	mb2_builder_tag(&b, MB2_TAG_MODULE, "\0\0\x10\0\0\0\x20\0initrd", 14);
	expect_parse(&b, MB2_ERR_BAD_STRING);

	for (size_t i = 0; i < ARRAY_SIZE(string_tags); i++) {
		b = builder();
		mb2_builder_tag(&b, string_tags[i], "no terminator", 13);
		add_small_mmap(&b);
		expect_parse(&b, MB2_ERR_BAD_STRING);

		b = builder();
		mb2_builder_tag(&b, string_tags[i], NULL, 0);  /* not even an empty string */
		add_small_mmap(&b);
		expect_parse(&b, MB2_ERR_BAD_STRING);
	}
}

Test(multiboot2, duplicate_command_line_or_name)
{
	const uint32_t string_tags[] = { MB2_TAG_CMDLINE, MB2_TAG_BOOTLOADER_NAME };

	for (size_t i = 0; i < ARRAY_SIZE(string_tags); i++) {
		struct mb2_builder b = builder();

		mb2_builder_string(&b, string_tags[i], "first");
		add_small_mmap(&b);
		mb2_builder_string(&b, string_tags[i], "second");
		expect_parse(&b, MB2_ERR_DUPLICATE_TAG);
	}
}

Test(multiboot2, every_status_has_its_own_message)
{
	for (int a = MB2_OK; a <= MB2_ERR_DUPLICATE_TAG; a++)
		for (int b = MB2_OK; b < a; b++)
			cr_assert_str_neq(mb2_status_message(a), mb2_status_message(b));
}

/* ---- random input -------------------------------------------------------------------------- */

/* What a random well-formed boot information holds, written down before it is built. */
struct expected {
	char cmdline[MB2_CMDLINE_MAX];
	size_t mmap_count;
	struct memmap_entry mmap[MB2_MMAP_MAX];
	uint32_t mmap_type[MB2_MMAP_MAX];
	size_t module_count;
	struct mb2_module modules[MB2_MODULES_MAX];
};

static struct expected want;

static enum mem_kind kind_of_type(uint32_t type)
{
	switch (type) {
	case 1: return MEM_USABLE;
	case 3: return MEM_ACPI_RECLAIMABLE;
	case 4: return MEM_ACPI_NVS;
	case 5: return MEM_BAD;
	default: return MEM_RESERVED;
	}
}

static void random_string(struct rng *rng, char *s, size_t max)
{
	size_t len = rng_below(rng, max);

	for (size_t i = 0; i < len; i++)
		s[i] = (char)(' ' + rng_below(rng, 95));
	s[len] = '\0';
}

static void add_random_junk_tag(struct rng *rng, struct mb2_builder *b)
{
	static const uint8_t junk[40] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

	mb2_builder_tag(b, 7 + (uint32_t)rng_below(rng, 40), junk, rng_below(rng, sizeof junk));
}

static void add_random_mmap(struct rng *rng, struct mb2_builder *b)
{
	mb2_builder_mmap_begin(b, 24 + 8 * (uint32_t)rng_below(rng, 4));
	want.mmap_count = rng_below(rng, MB2_MMAP_MAX + 1);
	for (size_t i = 0; i < want.mmap_count; i++) {
		uint32_t type = (uint32_t)rng_below(rng, 8);

		want.mmap[i] = (struct memmap_entry){ rng_next(rng), rng_next(rng), kind_of_type(type) };
		mb2_builder_mmap_entry(b, want.mmap[i].base, want.mmap[i].length, type);
	}
	mb2_builder_mmap_end(b);
}

static void add_random_module(struct rng *rng, struct mb2_builder *b)
{
	struct mb2_module *m = &want.modules[want.module_count++];
	uint32_t start = (uint32_t)rng_next(rng);

	m->start = start;
	m->end = start + rng_below(rng, (uint64_t)UINT32_MAX - start + 1);
	random_string(rng, m->cmdline, MB2_MODULE_NAME_MAX);
	mb2_builder_module(b, (uint32_t)m->start, (uint32_t)m->end, m->cmdline);
}

/* Builds random well-formed boot information into `buf` and writes down what it holds. */
static size_t build_random(struct rng *rng)
{
	struct mb2_builder b = builder();
	size_t modules = rng_below(rng, MB2_MODULES_MAX + 1);
	bool mmap_added = false, cmdline_added = false;

	memset(&want, 0, sizeof want);
	while (!mmap_added || want.module_count < modules) {
		switch (rng_below(rng, 4)) {
		case 0:
			if (!mmap_added)
				add_random_mmap(rng, &b);
			mmap_added = true;
			break;
		case 1:
			if (want.module_count < modules)
				add_random_module(rng, &b);
			break;
		case 2:
			if (!cmdline_added) {
				random_string(rng, want.cmdline, MB2_CMDLINE_MAX);
				mb2_builder_string(&b, MB2_TAG_CMDLINE, want.cmdline);
			}
			cmdline_added = true;
			break;
		default:
			add_random_junk_tag(rng, &b);
			break;
		}
	}
	return mb2_builder_finish(&b);
}

Test(multiboot2, random_well_formed_information_parses_to_what_was_built)
{
	for (uint64_t seed = 1; seed <= 1000; seed++) {
		struct rng rng = rng_seed(seed);
		size_t size = build_random(&rng);

		cr_assert_neq(size, 0, "seed %" PRIu64 ": builder overflow", seed);
		expect_status(parse_bytes(buf, size), MB2_OK);
		cr_assert_str_eq(info.cmdline, want.cmdline, "seed %" PRIu64, seed);
		cr_assert_eq(info.mmap_count, want.mmap_count, "seed %" PRIu64, seed);
		for (size_t i = 0; i < want.mmap_count; i++)
			expect_entry(i, want.mmap[i].base, want.mmap[i].length, want.mmap[i].kind);
		cr_assert_eq(info.module_count, want.module_count, "seed %" PRIu64, seed);
		for (size_t i = 0; i < want.module_count; i++)
			expect_module(i, want.modules[i].start, want.modules[i].end, want.modules[i].cmdline);
	}
}

/* Whatever the bytes, a successful parse hands over only what the struct can hold. */
static void check_parsed_info_sane(uint64_t seed)
{
	cr_assert_leq(info.mmap_count, MB2_MMAP_MAX, "seed %" PRIu64, seed);
	cr_assert_leq(info.module_count, MB2_MODULES_MAX, "seed %" PRIu64, seed);
	cr_assert_not_null(memchr(info.cmdline, '\0', sizeof info.cmdline));
	cr_assert_not_null(memchr(info.bootloader, '\0', sizeof info.bootloader));
	for (size_t i = 0; i < info.mmap_count; i++)
		cr_assert_lt((unsigned)info.mmap[i].kind, MEM_KIND_COUNT);
	for (size_t i = 0; i < info.module_count; i++) {
		cr_assert_leq(info.modules[i].start, info.modules[i].end);
		cr_assert_not_null(memchr(info.modules[i].cmdline, '\0', MB2_MODULE_NAME_MAX));
	}
}

/* A few random byte writes into real boot information, many times over; under ASan any read
 * outside the input crashes the test. */
Test(multiboot2, random_corruption_of_real_information)
{
	static const struct { const uint8_t *bytes; size_t size; } blobs[] = {
		{ grub_bios_4g_info, sizeof grub_bios_4g_info },
		{ grub_uefi_4g_info, sizeof grub_uefi_4g_info },
	};
	size_t outcomes[MB2_ERR_DUPLICATE_TAG + 1] = { 0 };

	for (uint64_t seed = 1; seed <= 20000; seed++) {
		struct rng rng = rng_seed(seed);
		size_t which = rng_below(&rng, ARRAY_SIZE(blobs)), size = blobs[which].size;
		size_t writes = 1 + rng_below(&rng, 4);
		enum mb2_status status;

		memcpy(buf, blobs[which].bytes, size);
		for (size_t i = 0; i < writes; i++) {
			/* Mostly the first bytes, where the header and the sizes of the first tags lie. */
			size_t at = rng_one_in(&rng, 2) ? rng_below(&rng, 160) : rng_below(&rng, size);

			buf[at] = rng_one_in(&rng, 2) ? (uint8_t)rng_next(&rng) : (uint8_t)(buf[at] ^ (1u << rng_below(&rng, 8)));
		}
		status = parse_bytes(buf, size);
		cr_assert_leq((unsigned)status, MB2_ERR_DUPLICATE_TAG, "seed %" PRIu64, seed);
		outcomes[status]++;
		if (status == MB2_OK)
			check_parsed_info_sane(seed);
	}
	/* The corruption reaches the checks: most statuses come up by chance alone. */
	cr_assert_gt(outcomes[MB2_OK], 0);
	cr_assert_gt(outcomes[MB2_ERR_BAD_SIZE], 0);
	cr_assert_gt(outcomes[MB2_ERR_BAD_TAG], 0);
	cr_assert_gt(outcomes[MB2_ERR_BAD_STRING], 0);
}
