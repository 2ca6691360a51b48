/*
 * fuzz_multiboot2: the Multiboot2 parser and the memory-map normalizer, on raw bytes.
 *
 * The input is read three ways.
 *   1. As Multiboot2 boot information.  mb2_parse must give a status without reading past the
 *      bytes it is handed (an exact-size copy, so ASan sees every overread), refuse a wrong magic
 *      and a misaligned copy, depend on [0, total_size) only, and produce what mb2_builder writes
 *      back and mb2_parse reads again unchanged.  Then boot_memmap_build, with a kernel image and
 *      an information range read from the bytes past total_size, must give a normalized map equal
 *      to normalizing the firmware entries and the carve-outs all at once, with the carve-outs
 *      out of usable memory.
 *   2. As raw struct memmap_entry records (24 bytes from offset 8) folded into a window of
 *      WINDOW bytes: memmap_normalize, memmap_overlay, memmap_find and memmap_total against a
 *      model that paints the window byte by byte, as the definition says.
 *   3. As the same records taken literally: the status, the invariants, the notes, the owner at
 *      each range's ends, and normalizing the result again changes nothing.
 * Bytes 4..7 (the header's reserved field, which the parser ignores) steer part 2.
 */
#include <string.h>

#include "host/support/mb2_builder.h"
#include "host/support/memmap_check.h"
#include "mm/boot_info.h"
#include "mm/memmap.h"
#include "mm/multiboot2.h"
#include "mm/page.h"
#include "tests/fuzz/fuzz.h"

#define ENTRY_BYTES 24  /* base, length, kind, padding: struct memmap_entry */
#define ENTRIES_AT  8   /* the records start after the information header */

/* The default image when the input has no bytes past total_size: the GRUB BIOS capture's. */
#define DEFAULT_KERNEL_START UINT64_C(0x100000)
#define DEFAULT_KERNEL_END   UINT64_C(0x100092)
#define DEFAULT_INFO_PHYS    UINT64_C(0x100168)

/* Big structs live here, not on the stack. */
static struct mb2_info parsed, reparsed;
static struct memmap map, again;
static _Alignas(8) uint8_t rebuilt[16384];  /* holds the largest information mb2_parse accepts into */

static void check_map(const struct memmap *m, const char *what)
{
	size_t index;
	const char *problem = memmap_check_normalized(m, &index);

	FUZZ_CHECK(problem == NULL, "%s: range %zu of %zu: %s", what, index, m->count, problem);
}

static bool same_map(const struct memmap *a, const struct memmap *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++)
		if (a->range[i].start != b->range[i].start || a->range[i].end != b->range[i].end ||
		    a->range[i].kind != b->range[i].kind)
			return false;
	return true;
}

/* The range as a raw entry. */
static struct memmap_entry raw_of(const struct mem_range *r)
{
	return (struct memmap_entry){ r->start, r->end - r->start, r->kind };
}

/* A normalized map normalizes to itself. */
static void check_fixed_point(const struct memmap *m)
{
	static struct memmap_entry raw[MEMMAP_MAX];

	for (size_t i = 0; i < m->count; i++)
		raw[i] = raw_of(&m->range[i]);
	FUZZ_CHECK(memmap_normalize(raw, m->count, &again, NULL) == MEMMAP_OK, "a normalized map does not normalize");
	FUZZ_CHECK(same_map(m, &again), "normalizing a normalized map changed it");
}

/* ---------------------------------------------------------------------------------------------
 * 1. Multiboot2.
 */

/* A heap copy of [data, data + size) at `shift` bytes past malloc's alignment, ending exactly
 * where ASan's redzone starts. */
static uint8_t *copy_at(const uint8_t *data, size_t size, size_t shift)
{
	uint8_t *block = malloc(size + shift == 0 ? 1 : size + shift);

	FUZZ_CHECK(block != NULL, "out of host memory");
	memcpy(block + shift, data, size);
	return block;
}

static bool has_nul(const char *s, size_t cap) { return memchr(s, '\0', cap) != NULL; }

static bool kind_from_mb2(enum mem_kind kind)
{
	return kind == MEM_USABLE || kind == MEM_ACPI_RECLAIMABLE || kind == MEM_ACPI_NVS || kind == MEM_RESERVED ||
	       kind == MEM_BAD;
}

/* What an accepted parse promises about its struct. */
static void check_parsed(const struct mb2_info *mb, size_t avail)
{
	FUZZ_CHECK(mb->total_size >= 16 && mb->total_size <= avail && mb->total_size <= MB2_INFO_MAX,
	           "total_size %u with %zu bytes available", mb->total_size, avail);
	FUZZ_CHECK(has_nul(mb->cmdline, sizeof mb->cmdline) && has_nul(mb->bootloader, sizeof mb->bootloader),
	           "unterminated string");
	FUZZ_CHECK(mb->mmap_count <= MB2_MMAP_MAX && mb->module_count <= MB2_MODULES_MAX, "counts out of range");
	for (size_t i = 0; i < mb->mmap_count; i++)
		FUZZ_CHECK(kind_from_mb2(mb->mmap[i].kind), "entry %zu has kind %d", i, (int)mb->mmap[i].kind);
	for (size_t i = 0; i < mb->module_count; i++)
		FUZZ_CHECK(mb->modules[i].start <= mb->modules[i].end && mb->modules[i].end <= UINT32_MAX &&
		                   has_nul(mb->modules[i].cmdline, sizeof mb->modules[i].cmdline),
		           "module %zu malformed", i);
}

/* Equal in everything but total_size. */
static bool same_info(const struct mb2_info *a, const struct mb2_info *b)
{
	if (strcmp(a->cmdline, b->cmdline) != 0 || strcmp(a->bootloader, b->bootloader) != 0 ||
	    a->mmap_count != b->mmap_count || a->module_count != b->module_count)
		return false;
	for (size_t i = 0; i < a->mmap_count; i++)
		if (a->mmap[i].base != b->mmap[i].base || a->mmap[i].length != b->mmap[i].length ||
		    a->mmap[i].kind != b->mmap[i].kind)
			return false;
	for (size_t i = 0; i < a->module_count; i++)
		if (a->modules[i].start != b->modules[i].start || a->modules[i].end != b->modules[i].end ||
		    strcmp(a->modules[i].cmdline, b->modules[i].cmdline) != 0)
			return false;
	return true;
}

/* Only [0, total_size) counts: an exact copy of it parses the same, one byte less is refused. */
static void check_total_size_bounds(const uint8_t *data)
{
	uint32_t total = parsed.total_size;
	uint8_t *exact = copy_at(data, total, 0);
	enum mb2_status s = mb2_parse(MB2_BOOTLOADER_MAGIC, exact, total, &reparsed);

	FUZZ_CHECK(s == MB2_OK && same_info(&parsed, &reparsed) && reparsed.total_size == total,
	           "parse of the first total_size bytes differs: %s", mb2_status_message(s));
	s = mb2_parse(MB2_BOOTLOADER_MAGIC, exact, total - 1, &reparsed);
	FUZZ_CHECK(s == MB2_ERR_BAD_SIZE, "total_size past the bytes available: %s", mb2_status_message(s));
	free(exact);
}

static uint32_t mb2_type_of(enum mem_kind kind)
{
	switch (kind) {
	case MEM_USABLE:           return MB2_MMAP_USABLE;
	case MEM_ACPI_RECLAIMABLE: return MB2_MMAP_ACPI_RECLAIMABLE;
	case MEM_ACPI_NVS:         return MB2_MMAP_ACPI_NVS;
	case MEM_BAD:              return MB2_MMAP_BAD;
	default:                   return MB2_MMAP_RESERVED;
	}
}

/* What the parser accepted, written out again by mb2_builder (which knows the format on its own)
 * and parsed back, is the same. */
static void check_rebuild(void)
{
	struct mb2_builder b;
	size_t size;
	enum mb2_status s;

	mb2_builder_init(&b, rebuilt, sizeof rebuilt);
	mb2_builder_string(&b, MB2_TAG_CMDLINE, parsed.cmdline);
	mb2_builder_string(&b, MB2_TAG_BOOTLOADER_NAME, parsed.bootloader);
	for (size_t i = 0; i < parsed.module_count; i++)
		mb2_builder_module(&b, (uint32_t)parsed.modules[i].start, (uint32_t)parsed.modules[i].end,
		                   parsed.modules[i].cmdline);
	mb2_builder_mmap_begin(&b, ENTRY_BYTES);
	for (size_t i = 0; i < parsed.mmap_count; i++)
		mb2_builder_mmap_entry(&b, parsed.mmap[i].base, parsed.mmap[i].length, mb2_type_of(parsed.mmap[i].kind));
	mb2_builder_mmap_end(&b);
	size = mb2_builder_finish(&b);
	FUZZ_CHECK(size != 0, "rebuilt information does not fit %zu bytes", sizeof rebuilt);
	s = mb2_parse(MB2_BOOTLOADER_MAGIC, rebuilt, size, &reparsed);
	FUZZ_CHECK(s == MB2_OK && same_info(&parsed, &reparsed), "rebuilt information parses differently: %s",
	           mb2_status_message(s));
}

/* The kernel image and information range, from the bytes past total_size (if any).  Flag bit 0
 * takes the kernel's end raw (it may lie below its start), bit 1 the information's size. */
static struct boot_image image_from(const uint8_t *data, size_t size, uint32_t total)
{
	struct fuzz_input in = { data + total, size - total };
	struct boot_image image = { DEFAULT_KERNEL_START, DEFAULT_KERNEL_END, DEFAULT_INFO_PHYS, total };
	uint8_t flags;

	if (fuzz_done(&in))
		return image;
	flags = fuzz_u8(&in);
	image.kernel_phys_start = fuzz_u64(&in);
	image.kernel_phys_end = flags & 1 ? fuzz_u64(&in) : image.kernel_phys_start + fuzz_u32(&in);
	image.info_phys = fuzz_u64(&in);
	if (flags & 2)
		image.info_size = fuzz_u64(&in);
	return image;
}

/* Asserts that [start, end), as far as it lies in the physical address space, is no longer
 * usable and is marked at least `kind`: it was carved out. */
static void check_carved(const struct memmap *m, uint64_t start, uint64_t end, enum mem_kind kind)
{
	uint64_t last;

	if (end > PHYS_ADDR_LIMIT)
		end = PHYS_ADDR_LIMIT;
	if (start >= end)
		return;
	last = end - 1;
	for (uint64_t addr = start;; addr = last) {
		const struct mem_range *r = memmap_find(m, addr);
		FUZZ_CHECK(r != NULL && r->kind >= kind, "%#llx of a %s range is %s", (unsigned long long)addr,
		           mem_kind_name(kind), r ? mem_kind_name(r->kind) : "absent");
		if (addr == last)
			break;
	}
}

/* boot_memmap_build against memmap_normalize of every entry at once. */
static void check_boot_map(const struct boot_image *image)
{
	static struct memmap_entry all[MB2_MMAP_MAX + 2 + MB2_MODULES_MAX];
	static struct memmap oneshot;
	struct memmap_notes notes, firmware_notes;
	enum memmap_status firmware = memmap_normalize(parsed.mmap, parsed.mmap_count, &oneshot, &firmware_notes);
	enum memmap_status s = boot_memmap_build(&parsed, image, &map, &notes);
	size_t n = parsed.mmap_count;

	if (image->kernel_phys_end < image->kernel_phys_start) {
		FUZZ_CHECK(s == MEMMAP_ERR_BAD_RANGE && map.count == 0, "reversed kernel: %s", memmap_status_message(s));
		return;
	}
	if (firmware != MEMMAP_OK) {
		FUZZ_CHECK(s == firmware && map.count == 0, "firmware map %s, build %s", memmap_status_message(firmware),
		           memmap_status_message(s));
		return;
	}
	if (s == MEMMAP_ERR_TOO_MANY) {  /* an intermediate map may overflow where the final one would not */
		FUZZ_CHECK(map.count == 0, "TOO_MANY left ranges behind");
		return;
	}
	FUZZ_CHECK(s == MEMMAP_OK, "boot_memmap_build: %s", memmap_status_message(s));
	check_map(&map, "boot map");
	FUZZ_CHECK(memcmp(&notes, &firmware_notes, sizeof notes) == 0, "notes are not the firmware map's");

	memcpy(all, parsed.mmap, n * sizeof *all);
	all[n++] = (struct memmap_entry){ image->kernel_phys_start, image->kernel_phys_end - image->kernel_phys_start,
	                                  MEM_KERNEL };
	all[n++] = (struct memmap_entry){ image->info_phys, image->info_size, MEM_BOOTLOADER };
	for (size_t i = 0; i < parsed.module_count; i++)
		all[n++] = (struct memmap_entry){ parsed.modules[i].start, parsed.modules[i].end - parsed.modules[i].start,
		                                  MEM_MODULE };
	s = memmap_normalize(all, n, &oneshot, NULL);
	FUZZ_CHECK(s == MEMMAP_OK && same_map(&map, &oneshot), "the boot map differs from normalizing all at once (%s)",
	           memmap_status_message(s));

	check_carved(&map, image->kernel_phys_start, image->kernel_phys_end, MEM_KERNEL);
	check_carved(&map, image->info_phys,
	             image->info_size > UINT64_MAX - image->info_phys ? UINT64_MAX : image->info_phys + image->info_size,
	             MEM_BOOTLOADER);
	for (size_t i = 0; i < parsed.module_count; i++)
		check_carved(&map, parsed.modules[i].start, parsed.modules[i].end, MEM_MODULE);
}

static void fuzz_parse(const uint8_t *data, size_t size)
{
	uint8_t *exact = copy_at(data, size, 0);
	uint8_t *shifted = copy_at(data, size, 1);
	enum mb2_status s = mb2_parse(MB2_BOOTLOADER_MAGIC, exact, size, &parsed);

	FUZZ_CHECK((unsigned)s <= MB2_ERR_DUPLICATE_TAG, "status %d out of range", (int)s);
	FUZZ_CHECK(mb2_parse(MB2_BOOTLOADER_MAGIC ^ 1, exact, size, &reparsed) == MB2_ERR_BAD_MAGIC, "bad magic accepted");
	FUZZ_CHECK(mb2_parse(MB2_BOOTLOADER_MAGIC, shifted + 1, size, &reparsed) == MB2_ERR_MISALIGNED,
	           "misaligned information accepted");
	if (s == MB2_OK) {
		check_parsed(&parsed, size);
		check_total_size_bounds(data);
		check_rebuild();
		struct boot_image image = image_from(data, size, parsed.total_size);
		check_boot_map(&image);
	}
	free(exact);
	free(shifted);
}

/* ---------------------------------------------------------------------------------------------
 * 2. The window model: raw entries folded into [origin, origin + WINDOW).
 */

#define WINDOW_PAGES   4
#define WINDOW         (WINDOW_PAGES * PAGE_SIZE)
#define WINDOW_ENTRIES 12  /* the last one may be an overlay */
#define NO_KIND        (-1)

struct window {
	uint64_t origin;
	int8_t owner[WINDOW];   /* the most restrictive kind covering the byte, or NO_KIND */
	uint16_t cover[WINDOW]; /* bit i: entry i covers the byte */
	int8_t expect[WINDOW];  /* owner, with every usable run cut to its whole pages */
	int8_t got[WINDOW];     /* what the map under test says */
};
_Static_assert(WINDOW_ENTRIES <= 16, "one cover bit per entry");

static struct window win;

/* The origin, from control bits 0..1: the bottom, a window across PHYS_ADDR_LIMIT, one ending
 * at it, or one somewhere above 4 GiB. */
static uint64_t window_origin(uint32_t control)
{
	switch (control & 3) {
	case 0:  return 0;
	case 1:  return PHYS_ADDR_LIMIT - WINDOW / 2;
	case 2:  return PHYS_ADDR_LIMIT - WINDOW;
	default: return 4 * GIB + (uint64_t)(control >> 16) * PAGE_SIZE;
	}
}

/* The kind from a record: mostly valid (usable for the spare values), now and then not. */
static enum mem_kind fold_kind(uint32_t raw, bool allow_bad)
{
	if (allow_bad && (raw & 0xff) == 0xff)
		return (enum mem_kind)(MEM_KIND_COUNT + (raw >> 8));
	raw %= MEM_KIND_COUNT + 3;
	return raw < MEM_KIND_COUNT ? (enum mem_kind)raw : MEM_USABLE;
}

/* A record folded into the window.  Near PHYS_ADDR_LIMIT a length with its top bit set runs past
 * 2^64; elsewhere the entry ends inside the window, so the window sees all of the map. */
static struct memmap_entry fold_entry(struct fuzz_input *in, bool allow_bad)
{
	uint64_t base = fuzz_u64(in), length = fuzz_u64(in);
	uint32_t kind = fuzz_u32(in);
	struct memmap_entry e;

	fuzz_u32(in);  /* padding */
	e.base = win.origin + base % (WINDOW + 1);
	if ((length >> 63) && win.origin + WINDOW >= PHYS_ADDR_LIMIT)
		e.length = UINT64_MAX - length % (2 * WINDOW);
	else
		e.length = length % (win.origin + WINDOW - e.base + 1);
	e.kind = fold_kind(kind, allow_bad);
	return e;
}

static bool covers(const struct memmap_entry *e, uint64_t addr)
{
	return addr < PHYS_ADDR_LIMIT && addr >= e->base && addr - e->base < e->length;
}

static void window_reset(void)
{
	memset(win.owner, NO_KIND, sizeof win.owner);
	memset(win.cover, 0, sizeof win.cover);
}

/* Paints entry number `index` into the window. */
static void window_add(const struct memmap_entry *e, size_t index)
{
	for (uint64_t b = 0; b < WINDOW; b++) {
		if (!covers(e, win.origin + b))
			continue;
		win.cover[b] |= (uint16_t)(1u << index);
		if ((int)e->kind > win.owner[b])
			win.owner[b] = (int8_t)e->kind;
	}
}

/* expect = owner, with the bytes of each maximal usable run outside its whole pages removed. */
static void window_expect(void)
{
	memcpy(win.expect, win.owner, WINDOW);
	for (uint64_t b = 0; b < WINDOW;) {
		uint64_t end = b;

		if (win.expect[b] != MEM_USABLE) {
			b++;
			continue;
		}
		while (end < WINDOW && win.expect[end] == MEM_USABLE)
			end++;
		uint64_t keep_start = align_up(win.origin + b, PAGE_SIZE) - win.origin;
		uint64_t keep_end = align_down(win.origin + end, PAGE_SIZE) - win.origin;
		for (uint64_t i = b; i < end; i++)
			if (i < keep_start || i >= keep_end)
				win.expect[i] = NO_KIND;
		b = end;
	}
}

static uint64_t count_kind(const int8_t *cells, int kind)
{
	uint64_t n = 0;

	for (uint64_t b = 0; b < WINDOW; b++)
		n += cells[b] == kind;
	return n;
}

/* Bytes of each kind in `cells`. */
static void count_kinds(const int8_t *cells, uint64_t *bytes)
{
	memset(bytes, 0, MEM_KIND_COUNT * sizeof *bytes);
	for (uint64_t b = 0; b < WINDOW; b++)
		if (cells[b] != NO_KIND)
			bytes[cells[b]]++;
}

/* Paints the map into `cells`; every range must lie inside the window. */
static void paint(const struct memmap *m, int8_t *cells)
{
	memset(cells, NO_KIND, WINDOW);
	for (size_t i = 0; i < m->count; i++) {
		const struct mem_range *r = &m->range[i];

		FUZZ_CHECK(r->start >= win.origin && r->end <= win.origin + WINDOW, "range [%#llx, %#llx) outside the window",
		           (unsigned long long)r->start, (unsigned long long)r->end);
		memset(cells + (r->start - win.origin), (int)r->kind, r->end - r->start);
	}
}

/* The map, memmap_find and memmap_total all agree with win.expect. */
static void check_window(const struct memmap *m)
{
	uint64_t bytes[MEM_KIND_COUNT];

	check_map(m, "window map");
	paint(m, win.got);
	for (uint64_t b = 0; b < WINDOW; b++)
		FUZZ_CHECK(win.got[b] == win.expect[b], "byte %#llx is %s, the model says %s",
		           (unsigned long long)(win.origin + b), win.got[b] == NO_KIND ? "absent" : mem_kind_name(win.got[b]),
		           win.expect[b] == NO_KIND ? "absent" : mem_kind_name(win.expect[b]));
	for (uint64_t b = 0; b < WINDOW; b += 61) {  /* a stride prime to the page size hits every offset class */
		const struct mem_range *r = memmap_find(m, win.origin + b);
		FUZZ_CHECK(win.expect[b] == NO_KIND ? r == NULL : r != NULL && (int)r->kind == win.expect[b],
		           "memmap_find(%#llx) disagrees with the map", (unsigned long long)(win.origin + b));
	}
	count_kinds(win.expect, bytes);
	for (int kind = 0; kind < MEM_KIND_COUNT; kind++)
		FUZZ_CHECK(memmap_total(m, (enum mem_kind)kind) == bytes[kind], "memmap_total(%s) is wrong",
		           mem_kind_name((enum mem_kind)kind));
}

/* Pairs of entries that share a byte. */
static size_t window_overlaps(size_t n)
{
	uint16_t shares[WINDOW_ENTRIES] = { 0 };
	size_t pairs = 0;

	for (uint64_t b = 0; b < WINDOW; b++) {
		uint16_t cover = win.cover[b];

		if ((cover & (cover - 1)) == 0)
			continue;  /* one entry or none: no pair */
		for (size_t i = 0; i < n; i++)
			if (cover & (1u << i))
				shares[i] |= cover & (uint16_t)~(1u << i);
	}
	for (size_t i = 0; i < n; i++)
		pairs += (size_t)__builtin_popcount(shares[i]);
	return pairs / 2;
}

/* The notes of normalizing in[0..n), each counted from its definition. */
static void check_notes(const struct memmap_entry *in, size_t n, const struct memmap_notes *notes)
{
	size_t zero = 0, clipped = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned __int128 end = (unsigned __int128)in[i].base + in[i].length;

		if (in[i].length == 0)
			zero++;
		else if (end > PHYS_ADDR_LIMIT)
			clipped++;
	}
	FUZZ_CHECK(notes->zero_length == zero && notes->clipped == clipped, "zero-length or clipped notes wrong");
	FUZZ_CHECK(notes->overlaps == window_overlaps(n), "overlaps note %zu, the model says %zu", notes->overlaps,
	           window_overlaps(n));
	FUZZ_CHECK(notes->unaligned_bytes == count_kind(win.owner, MEM_USABLE) - count_kind(win.expect, MEM_USABLE),
	           "unaligned_bytes note wrong");
}

/* Overlays `e` on the normalized map (whose painting is the model's starting point).  A reversed
 * range, an empty one and a bad kind must leave the map as it was. */
static void check_overlay(const struct memmap_entry *e)
{
	uint64_t end = e->base + e->length;  /* wraps for lengths past 2^64: a reversed range */
	enum memmap_status want = MEMMAP_OK;
	enum memmap_status s;

	if (end < e->base)
		want = MEMMAP_ERR_BAD_RANGE;
	else if (end != e->base && (unsigned)e->kind >= MEM_KIND_COUNT)
		want = MEMMAP_ERR_BAD_KIND;
	memcpy(&again, &map, sizeof map);
	s = memmap_overlay(&map, e->base, end, e->kind);
	FUZZ_CHECK(s == want, "overlay: %s, want %s", memmap_status_message(s), memmap_status_message(want));
	if (want != MEMMAP_OK || end == e->base) {
		FUZZ_CHECK(same_map(&map, &again), "a refused or empty overlay changed the map");
		return;
	}
	window_reset();
	paint(&again, win.owner);
	window_add(e, 0);
	window_expect();
	check_window(&map);
}

static void fuzz_window(const uint8_t *data, size_t size)
{
	static struct memmap_entry in[WINDOW_ENTRIES];
	struct fuzz_input control_bytes = { data + 4, size > 8 ? 4 : 0 };
	uint32_t control = fuzz_u32(&control_bytes);
	struct fuzz_input in_bytes = { data + ENTRIES_AT, size > ENTRIES_AT ? size - ENTRIES_AT : 0 };
	size_t n = 0;
	bool overlay = control & 4;
	struct memmap_notes notes;
	enum memmap_status s;

	win.origin = window_origin(control);
	while (n < WINDOW_ENTRIES && in_bytes.left >= ENTRY_BYTES)
		in[n++] = fold_entry(&in_bytes, control & 8);
	if (overlay && n < 2)
		overlay = false;
	size_t base_n = overlay ? n - 1 : n;

	window_reset();
	for (size_t i = 0; i < base_n; i++)
		window_add(&in[i], i);
	window_expect();
	s = memmap_normalize(in, base_n, &map, &notes);
	for (size_t i = 0; i < base_n; i++) {
		if ((unsigned)in[i].kind >= MEM_KIND_COUNT) {
			FUZZ_CHECK(s == MEMMAP_ERR_BAD_KIND && map.count == 0, "bad kind: %s", memmap_status_message(s));
			return;
		}
	}
	if (count_kind(win.expect, NO_KIND) == WINDOW) {
		FUZZ_CHECK(s == MEMMAP_ERR_EMPTY && map.count == 0, "empty map: %s", memmap_status_message(s));
		return;
	}
	FUZZ_CHECK(s == MEMMAP_OK, "normalize: %s", memmap_status_message(s));
	check_window(&map);
	check_notes(in, base_n, &notes);
	check_fixed_point(&map);
	if (overlay)
		check_overlay(&in[n - 1]);
}

/* ---------------------------------------------------------------------------------------------
 * 3. The records taken literally.
 */

#define LITERAL_MAX 96  /* enough for a map of more than MEMMAP_MAX ranges */

/* The most restrictive kind among the entries covering `addr`, or NO_KIND. */
static int owner_at(const struct memmap_entry *in, size_t n, uint64_t addr)
{
	int owner = NO_KIND;

	for (size_t i = 0; i < n; i++)
		if (covers(&in[i], addr) && (int)in[i].kind > owner)
			owner = (int)in[i].kind;
	return owner;
}

static void fuzz_literal(const uint8_t *data, size_t size)
{
	static struct memmap_entry in[LITERAL_MAX];
	struct fuzz_input bytes = { data + ENTRIES_AT, size > ENTRIES_AT ? size - ENTRIES_AT : 0 };
	bool bad_kind = false;
	size_t n = 0;
	struct memmap_notes notes;
	enum memmap_status s;

	while (n < LITERAL_MAX && bytes.left >= ENTRY_BYTES) {
		uint64_t base = fuzz_u64(&bytes), length = fuzz_u64(&bytes);
		uint32_t kind = fuzz_u32(&bytes);

		fuzz_u32(&bytes);
		bad_kind |= kind >= MEM_KIND_COUNT;
		in[n++] = (struct memmap_entry){ base, length, (enum mem_kind)kind };
	}
	s = memmap_normalize(in, n, &map, &notes);
	if (bad_kind) {
		FUZZ_CHECK(s == MEMMAP_ERR_BAD_KIND && map.count == 0, "bad kind: %s", memmap_status_message(s));
		return;
	}
	if (s != MEMMAP_OK) {
		FUZZ_CHECK((s == MEMMAP_ERR_EMPTY || s == MEMMAP_ERR_TOO_MANY) && map.count == 0, "normalize: %s",
		           memmap_status_message(s));
		/* Only usable entries can vanish (to page alignment); any other entry leaves a range. */
		for (size_t i = 0; i < n && s == MEMMAP_ERR_EMPTY; i++)
			FUZZ_CHECK(in[i].kind == MEM_USABLE || in[i].length == 0 || in[i].base >= PHYS_ADDR_LIMIT,
			           "EMPTY, yet entry %zu is a non-empty %s", i, mem_kind_name(in[i].kind));
		return;
	}
	check_map(&map, "literal map");
	check_fixed_point(&map);
	for (size_t i = 0; i < map.count; i++) {
		const struct mem_range *r = &map.range[i];
		FUZZ_CHECK(owner_at(in, n, r->start) == (int)r->kind && owner_at(in, n, r->end - 1) == (int)r->kind,
		           "range %zu [%#llx, %#llx) %s is not what the entries say at its ends", i,
		           (unsigned long long)r->start, (unsigned long long)r->end, mem_kind_name(r->kind));
	}
}

int fuzz_multiboot2(const uint8_t *data, size_t size)
{
	fuzz_parse(data, size);
	fuzz_window(data, size);
	fuzz_literal(data, size);
	return 0;
}

FUZZ_ENTRY(fuzz_multiboot2)
