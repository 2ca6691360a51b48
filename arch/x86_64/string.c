/*
 * The kernel's memset/memcpy/memmove.  `rep movsb`/`rep stosb` are fast on every CPU with ERMS
 * and need no SSE; plain C loops would be no better and the compiler may turn them back into
 * calls to these very functions.
 */
#include "lib/mem.h"

#include <stdint.h>

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	if ((uintptr_t)dst - (uintptr_t)src >= n)
		return memcpy(dst, src, n);   /* no overlap that a forward copy would trample */
	/* dst overlaps the end of src: copy backwards. */
	const char *s = (const char *)src + n - 1;
	char *d = (char *)dst + n - 1;
	__asm__ volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return dst;
}
