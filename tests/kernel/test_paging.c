/*
 * Paging on the live page tables, under whichever access technique the kernel booted with
 * (paging=offset|recursive|temporary): the same tests must pass under each.
 */
#include "arch/x86_64/probe.h"
#include "arch/x86_64/trap.h"
#include "kernel/kmain.h"
#include "kernel/ktest.h"
#include "kernel/memory.h"
#include "mm/layout.h"

#define SCRATCH_PAGE (SCRATCH_BASE + 0x1000)

static uint64_t alloc_frame(void)
{
	uint64_t pa;

	KT_ASSERT_EQ(frame_alloc(&kernel_frames, 0, 0, &pa), FRAME_OK);
	return pa;
}

static void free_frame(uint64_t pa)
{
	KT_ASSERT_EQ(frame_free(&kernel_frames, pa, 0), FRAME_OK);
}

/* A fault at `addr`, of the kind the error code bits `error` describe, was caught. */
static void assert_faulted(uint64_t addr, uint64_t error)
{
	struct probe_fault f = probe_last_fault();

	KT_ASSERT_EQ(f.vector, VEC_PAGE_FAULT);
	KT_ASSERT_EQ(f.addr, addr);
	KT_ASSERT_EQ(f.error & (PF_PRESENT | PF_WRITE), error);
}

KTEST(paging, map_write_translate_unmap_faults)
{
	uint64_t frame = alloc_frame(), phys, size, value;

	KT_ASSERT_EQ(paging_map(&kernel_space, SCRATCH_PAGE, frame, PAGE_SIZE, PAGE_WRITE | PAGE_NOEXEC), PAGING_OK);
	KT_ASSERT(probe_write64(SCRATCH_PAGE + 8, 0x1122334455667788));
	KT_ASSERT_EQ(*(volatile uint64_t *)phys_to_virt(frame + 8), 0x1122334455667788);

	struct translation t = paging_translate(&kernel_space, SCRATCH_PAGE + 8);
	KT_ASSERT_EQ(t.status, PAGING_OK);
	KT_ASSERT_EQ(t.phys, frame + 8);
	KT_ASSERT_EQ(t.page_size, PAGE_SIZE);
	KT_ASSERT_EQ(t.flags & (PAGE_WRITE | PAGE_NOEXEC | PAGE_USER), PAGE_WRITE | PAGE_NOEXEC);

	KT_ASSERT_EQ(paging_unmap(&kernel_space, SCRATCH_PAGE, &phys, &size), PAGING_OK);
	KT_ASSERT_EQ(phys, frame);
	KT_ASSERT_EQ(size, PAGE_SIZE);
	KT_ASSERT(!probe_read64(SCRATCH_PAGE + 8, &value));
	assert_faulted(SCRATCH_PAGE + 8, 0);
	KT_ASSERT_EQ(paging_translate(&kernel_space, SCRATCH_PAGE).status, PAGING_ERR_NOT_MAPPED);
	free_frame(frame);
}

/* seL4's stale-TLB test: the old translation must not survive a remap to another frame. */
KTEST(paging, remap_reads_new_frame)
{
	uint64_t a = alloc_frame(), b = alloc_frame(), value;

	*(volatile uint64_t *)phys_to_virt(a) = 0xaaaa;
	*(volatile uint64_t *)phys_to_virt(b) = 0xbbbb;
	KT_ASSERT_EQ(paging_map(&kernel_space, SCRATCH_PAGE, a, PAGE_SIZE, PAGE_NOEXEC), PAGING_OK);
	KT_ASSERT(probe_read64(SCRATCH_PAGE, &value));   /* the TLB now holds SCRATCH_PAGE -> a */
	KT_ASSERT_EQ(value, 0xaaaa);
	KT_ASSERT_EQ(paging_unmap(&kernel_space, SCRATCH_PAGE, NULL, NULL), PAGING_OK);
	KT_ASSERT_EQ(paging_map(&kernel_space, SCRATCH_PAGE, b, PAGE_SIZE, PAGE_NOEXEC), PAGING_OK);
	KT_ASSERT(probe_read64(SCRATCH_PAGE, &value));
	KT_ASSERT_EQ(value, 0xbbbb);
	KT_ASSERT_EQ(paging_unmap(&kernel_space, SCRATCH_PAGE, NULL, NULL), PAGING_OK);
	free_frame(a);
	free_frame(b);
}

KTEST(paging, read_only_downgrade_faults)
{
	uint64_t frame = alloc_frame();

	KT_ASSERT_EQ(paging_map(&kernel_space, SCRATCH_PAGE, frame, PAGE_SIZE, PAGE_WRITE | PAGE_NOEXEC), PAGING_OK);
	KT_ASSERT(probe_write8(SCRATCH_PAGE, 1));           /* caches a writable translation */
	KT_ASSERT_EQ(paging_protect(&kernel_space, SCRATCH_PAGE, PAGE_NOEXEC), PAGING_OK);
	KT_ASSERT(!probe_write8(SCRATCH_PAGE, 2));
	assert_faulted(SCRATCH_PAGE, PF_PRESENT | PF_WRITE);
	KT_ASSERT_EQ(*(volatile uint8_t *)phys_to_virt(frame), 1);
	KT_ASSERT_EQ(paging_unmap(&kernel_space, SCRATCH_PAGE, NULL, NULL), PAGING_OK);
	free_frame(frame);
}

KTEST(paging, huge_2m_page)
{
	uint64_t block, value;

	if (frame_alloc(&kernel_frames, 9, 0, &block) == FRAME_ERR_NO_MEMORY)
		ktest_skip("no free 2 MiB block: too little memory");
	*(volatile uint64_t *)phys_to_virt(block + 0x12345 * 8) = 42;
	KT_ASSERT_EQ(paging_map(&kernel_space, SCRATCH_BASE + PAGE_SIZE_2M, block, PAGE_SIZE_2M, PAGE_NOEXEC), PAGING_OK);
	struct translation t = paging_translate(&kernel_space, SCRATCH_BASE + PAGE_SIZE_2M + 0x12345 * 8);
	KT_ASSERT_EQ(t.page_size, PAGE_SIZE_2M);
	KT_ASSERT_EQ(t.level, 2);
	KT_ASSERT_EQ(t.phys, block + 0x12345 * 8);
	KT_ASSERT(probe_read64(SCRATCH_BASE + PAGE_SIZE_2M + 0x12345 * 8, &value));
	KT_ASSERT_EQ(value, 42);
	KT_ASSERT_EQ(paging_map(&kernel_space, SCRATCH_BASE + PAGE_SIZE_2M + PAGE_SIZE, block, PAGE_SIZE, 0),
	             PAGING_ERR_PARENT_HUGE);
	KT_ASSERT_EQ(paging_unmap(&kernel_space, SCRATCH_BASE + PAGE_SIZE_2M, NULL, NULL), PAGING_OK);
	KT_ASSERT_EQ(frame_free(&kernel_frames, block, 9), FRAME_OK);
}

KTEST(paging, errors_change_nothing)
{
	uint64_t frame = alloc_frame();
	uint64_t not_2m_aligned = align_down(frame, PAGE_SIZE_2M) + PAGE_SIZE;
	struct frame_stats before, after;

	frame_stats(&kernel_frames, &before);
	KT_ASSERT_EQ(paging_map(&kernel_space, SCRATCH_PAGE + 1, frame, PAGE_SIZE, 0), PAGING_ERR_MISALIGNED);
	KT_ASSERT_EQ(paging_map(&kernel_space, SCRATCH_BASE, not_2m_aligned, PAGE_SIZE_2M, 0), PAGING_ERR_MISALIGNED);
	KT_ASSERT_EQ(paging_map(&kernel_space, UINT64_C(0x0000800000000000), frame, PAGE_SIZE, 0),
	             PAGING_ERR_NONCANONICAL);
	KT_ASSERT_EQ(paging_map(&kernel_space, SCRATCH_PAGE, frame, 8192, 0), PAGING_ERR_BAD_SIZE);
	KT_ASSERT_EQ(paging_map(&kernel_space, (uint64_t)kmain & ~(PAGE_SIZE - 1), frame, PAGE_SIZE, 0),
	             PAGING_ERR_ALREADY_MAPPED);
	KT_ASSERT_EQ(paging_map(&kernel_space, PHYS_OFFSET + PAGE_SIZE, frame, PAGE_SIZE, 0), PAGING_ERR_PARENT_HUGE);
	KT_ASSERT_EQ(paging_unmap(&kernel_space, SCRATCH_PAGE, NULL, NULL), PAGING_ERR_NOT_MAPPED);
	frame_stats(&kernel_frames, &after);
	KT_ASSERT_EQ(after.free_frames, before.free_frames);
	free_frame(frame);
}

/* Every free frame, one by one in the largest blocks first, then all back. */
KTEST(frames, allocate_everything_then_free)
{
	struct frame_stats before, after;
	static uint64_t blocks[4096];
	static unsigned orders[4096];
	size_t n = 0;

	frame_stats(&kernel_frames, &before);
	for (int order = FRAME_MAX_ORDER; order >= 0; order--) {
		uint64_t pa;
		while (n < 4096 && frame_alloc(&kernel_frames, (unsigned)order, FRAME_UNINIT, &pa) == FRAME_OK) {
			blocks[n] = pa;
			orders[n++] = (unsigned)order;
		}
	}
	KT_ASSERT_MSG(n < 4096, "more than 4096 blocks: raise the test's array");
	frame_stats(&kernel_frames, &after);
	KT_ASSERT_EQ(after.free_frames, 0);
	for (size_t i = 0; i < n; i++)
		KT_ASSERT_EQ(frame_free(&kernel_frames, blocks[i], orders[i]), FRAME_OK);
	frame_stats(&kernel_frames, &after);
	KT_ASSERT_EQ(after.free_frames, before.free_frames);
	KT_ASSERT_EQ(frame_check(&kernel_frames), FRAME_OK);
}
