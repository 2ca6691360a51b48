#define _DEFAULT_SOURCE
#include <stddef.h>
#include <sys/mman.h>

#include "host/support/simmem.h"

bool simmem_create(struct simmem *mem, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return false;
	mem->base = p;
	mem->size = size;
	return true;
}

void simmem_destroy(struct simmem *mem)
{
	munmap(mem->base, mem->size);
	mem->base = NULL;
	mem->size = 0;
}
