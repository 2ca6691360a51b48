/*
 * The security walk: every present mapping of the live page tables, checked against what each
 * region of the address space may allow (docs/address-space.md).
 */
#include "arch/x86_64/stacks.h"
#include "kernel/kheap.h"
#include "kernel/ktest.h"
#include "kernel/memory.h"
#include "lib/mem.h"
#include "mm/layout.h"

extern char __text_start[], __text_end[], __rodata_start[], __data_end[];

struct walk_tally {
	uint64_t pages, direct, heap, text, data;
};

static bool inside(uint64_t virt, uint64_t start, uint64_t end)
{
	return virt >= start && virt < end;
}

static bool check_mapping(void *ctx, const struct mapping *m)
{
	struct walk_tally *t = ctx;
	bool writable = m->flags & PAGE_WRITE, nx = m->flags & PAGE_NOEXEC;

	t->pages++;
	KT_ASSERT_MSG(!(writable && !nx), "0x%lx (%lu bytes) is writable and executable", m->virt, m->size);
	KT_ASSERT_MSG(!(m->flags & PAGE_USER), "0x%lx is user-accessible: the kernel maps nothing for user mode", m->virt);
	if (inside(m->virt, PHYS_OFFSET, PHYS_OFFSET + DIRECT_MAP_SIZE)) {
		KT_ASSERT_MSG(nx, "direct map page 0x%lx is executable", m->virt);
		t->direct++;
	} else if (inside(m->virt, HEAP_BASE, HEAP_BASE + HEAP_MAX_SIZE)) {
		KT_ASSERT_MSG(nx, "heap page 0x%lx is executable", m->virt);
		t->heap++;
	} else if (inside(m->virt, (uint64_t)__text_start, (uint64_t)__text_end)) {
		KT_ASSERT_MSG(!writable, "kernel text page 0x%lx is writable", m->virt);
		t->text++;
	} else if (inside(m->virt, (uint64_t)__rodata_start, (uint64_t)__data_end)) {
		KT_ASSERT_MSG(nx, "kernel data page 0x%lx (rodata, data, bss or a stack) is executable", m->virt);
		t->data++;
	}
	return true;
}

KTEST(security, every_mapping_obeys_its_region)
{
	struct walk_tally t = { 0 };
	void *object = kmalloc(100);   /* so that the heap has a page to check */

	KT_ASSERT(object);
	paging_visit(&kernel_space, 0, 0, check_mapping, &t);
	kfree(object);
	KT_ASSERT_MSG(t.direct && t.heap && t.text && t.data, "the walk missed a region: direct %lu heap %lu text %lu data %lu",
	              t.direct, t.heap, t.text, t.data);
}

KTEST(security, stacks_are_non_executable_and_guarded)
{
	uint64_t local = 0;
	struct translation t = paging_translate(&kernel_space, (uint64_t)&local);

	KT_ASSERT_EQ(t.status, PAGING_OK);
	KT_ASSERT(t.flags & PAGE_NOEXEC);
	t = paging_translate(&kernel_space, (uint64_t)double_fault_stack.stack);
	KT_ASSERT_EQ(t.status, PAGING_OK);
	KT_ASSERT(t.flags & PAGE_NOEXEC);
	for (size_t i = 0; i < kernel_guard_page_count; i++)
		KT_ASSERT_EQ(paging_translate(&kernel_space, kernel_guard_pages[i]).status, PAGING_ERR_NOT_MAPPED);
	KT_ASSERT_EQ(paging_translate(&kernel_space, 0).status, PAGING_ERR_NOT_MAPPED);
}

/* A frame never shows an earlier user's data: frames are zeroed when handed out. */
KTEST(security, fresh_frames_are_zeroed)
{
	uint64_t pa, again;
	const uint8_t *bytes;

	KT_ASSERT_EQ(frame_alloc(&kernel_frames, 0, 0, &pa), FRAME_OK);
	memset(phys_to_virt(pa), 0xa5, PAGE_SIZE);
	KT_ASSERT_EQ(frame_free(&kernel_frames, pa, 0), FRAME_OK);
	KT_ASSERT_EQ(frame_alloc(&kernel_frames, 0, 0, &again), FRAME_OK);
	KT_ASSERT_MSG(again == pa, "expected the frame just freed back (0x%lx), got 0x%lx", pa, again);
	bytes = phys_to_virt(again);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		KT_ASSERT_MSG(bytes[i] == 0, "byte %zu of a fresh frame is 0x%02x", i, bytes[i]);
	KT_ASSERT_EQ(frame_free(&kernel_frames, again, 0), FRAME_OK);
}
