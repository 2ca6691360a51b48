/*
 * memset, memcpy and friends for portable code.  On the host they come from libc; in the kernel
 * from kernel/libc.c.  Portable code includes this header instead of <string.h>, which a
 * freestanding build does not have.
 */
#ifndef FERRITE_LIB_MEM_H
#define FERRITE_LIB_MEM_H

#include <stddef.h>

#ifdef FERRITE_KERNEL
void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
#else
#include <string.h>
#endif

#endif
