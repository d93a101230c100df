/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "sandbox/arena.h"

#define ARENA_MIN_SHIFT 5  /* 32-byte blocks, header included */
#define ARENA_MAX_SHIFT 16 /* 64 KiB; larger blocks get their own region */
#define ARENA_NCLASS (ARENA_MAX_SHIFT - ARENA_MIN_SHIFT + 1)
/*
 * Pool regions start small, so a process holding little (idw-mcp) locks
 * little, and double up to 1 MiB as a vault grows.
 */
#define ARENA_POOL_FIRST (64u << 10)
#define ARENA_POOL_MAX (1u << 20)
#define ARENA_MAGIC 0x1d3a7e11u
#define ARENA_BIG 0xffffu

struct block_hdr {
	uint32_t magic;
	uint16_t cls; /* size class, or ARENA_BIG */
	uint16_t unused;
	uint64_t size; /* usable bytes */
};

struct free_node {
	struct free_node *next;
};

struct region {
	uint8_t *base; /* first usable byte (after the guard page) */
	size_t size;
	size_t used; /* bump offset */
	bool pool;   /* carved into blocks; else one large block */
	struct region *next;
};

static struct {
	int init;
	int flags;
	size_t page;
	struct region *regions;
	struct free_node *free[ARENA_NCLASS];
	struct idw_arena_stats st;
	size_t next_pool; /* size of the next pool region */
	char lock_err[256];
} A;

static struct region *region_map(size_t size)
{
	size_t total = size + 2 * A.page;
	uint8_t *m;
	struct region *r;

	m = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	if (mprotect(m + A.page, size, PROT_READ | PROT_WRITE) != 0) {
		munmap(m, total);
		return NULL;
	}
	(void)madvise(m + A.page, size, MADV_DONTDUMP);
#ifdef MADV_WIPEONFORK
	(void)madvise(m + A.page, size, MADV_WIPEONFORK);
#endif
	if (mlock(m + A.page, size) != 0) {
		struct rlimit rl = {0, 0};

		getrlimit(RLIMIT_MEMLOCK, &rl);
		snprintf(
			A.lock_err, sizeof(A.lock_err),
			"cannot lock %zu more bytes of memory (%s); "
			"RLIMIT_MEMLOCK is %llu KiB: raise it (ulimit -l, or "
			"LimitMEMLOCK= in the systemd unit) or start the agent "
			"with --allow-unlocked-memory",
			size, strerror(errno),
			(unsigned long long)(rl.rlim_cur / 1024));
		if (!(A.flags & IDW_ARENA_ALLOW_UNLOCKED)) {
			munmap(m, total);
			errno = ENOMEM;
			return NULL;
		}
		A.st.locked = false;
	}
	/* The region header lives outside: it holds no secret. */
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		munmap(m, total);
		return NULL;
	}
	r->base = m + A.page;
	r->size = size;
	A.st.mapped += size;
	A.st.regions++;
	return r;
}

int idw_arena_init(int flags)
{
	if (A.init)
		return 0;
	if (sodium_init() < 0)
		return IDW_ERR;
	A.page = (size_t)sysconf(_SC_PAGESIZE);
	A.flags = flags;
	A.st.locked = true;
	A.next_pool = ARENA_POOL_FIRST;
	A.regions = region_map(A.next_pool);
	if (A.regions == NULL)
		return IDW_ENOMEM;
	A.regions->pool = true;
	A.next_pool *= 2;
	A.init = 1;
	return 0;
}

bool idw_arena_lock_failed(void)
{
	return A.lock_err[0] != '\0';
}

const char *idw_arena_lock_error(void)
{
	return A.lock_err[0] ? A.lock_err : "memory could not be locked";
}

static int size_class(size_t n)
{
	size_t need = n + sizeof(struct block_hdr);

	for (int c = 0; c < ARENA_NCLASS; c++)
		if (need <= (1u << (c + ARENA_MIN_SHIFT)))
			return c;
	return -1;
}

static void *bump(size_t bsize)
{
	struct region *r;

	for (r = A.regions; r != NULL; r = r->next)
		if (r->pool && r->size - r->used >= bsize)
			break;
	if (r == NULL) {
		size_t sz = A.next_pool < bsize ? bsize : A.next_pool;

		r = region_map(sz);
		if (r == NULL)
			return NULL;
		r->pool = true;
		r->next = A.regions;
		A.regions = r;
		if (A.next_pool < ARENA_POOL_MAX)
			A.next_pool *= 2;
	}
	r->used += bsize;
	return r->base + r->used - bsize;
}

void *idw_arena_alloc(size_t n)
{
	struct block_hdr *h;
	int c;

	if (!A.init && idw_arena_init(0) != 0)
		return NULL;
	if (n == 0)
		n = 1;
	/* Near SIZE_MAX the rounding below would wrap to a tiny block. */
	if (n > SIZE_MAX / 2)
		return NULL;
	c = size_class(n);
	if (c < 0) {
		size_t sz = (n + sizeof(*h) + A.page - 1) & ~(A.page - 1);
		struct region *r = region_map(sz);

		if (r == NULL)
			return NULL;
		r->used = sz;
		r->next = A.regions;
		A.regions = r;
		h = (struct block_hdr *)r->base;
		h->cls = ARENA_BIG;
		h->size = sz - sizeof(*h);
		A.st.in_use += sz;
	} else if (A.free[c] != NULL) {
		h = (struct block_hdr *)A.free[c];
		A.free[c] = A.free[c]->next;
		h->cls = (uint16_t)c;
		h->size = (1u << (c + ARENA_MIN_SHIFT)) - sizeof(*h);
		A.st.in_use += 1u << (c + ARENA_MIN_SHIFT);
	} else {
		h = bump(1u << (c + ARENA_MIN_SHIFT));
		if (h == NULL)
			return NULL;
		h->cls = (uint16_t)c;
		h->size = (1u << (c + ARENA_MIN_SHIFT)) - sizeof(*h);
		A.st.in_use += 1u << (c + ARENA_MIN_SHIFT);
	}
	h->magic = ARENA_MAGIC;
	h->unused = 0;
	return h + 1;
}

void *idw_arena_calloc(size_t nmemb, size_t size)
{
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		return NULL;
	p = idw_arena_alloc(nmemb * size);
	if (p != NULL)
		memset(p, 0, nmemb * size);
	return p;
}

bool idw_arena_owns(const void *p)
{
	for (struct region *r = A.regions; r != NULL; r = r->next)
		if ((const uint8_t *)p >= r->base &&
		    (const uint8_t *)p < r->base + r->size)
			return true;
	return false;
}

static struct block_hdr *hdr_of(void *p)
{
	struct block_hdr *h = (struct block_hdr *)p - 1;

	/* A foreign or double-freed pointer is a broken invariant. */
	if (h->magic != ARENA_MAGIC)
		abort();
	return h;
}

void idw_arena_free(void *p)
{
	struct block_hdr *h;
	uint16_t cls;

	if (p == NULL)
		return;
	h = hdr_of(p);
	sodium_memzero(p, h->size);
	h->magic = 0;
	if (h->cls == ARENA_BIG) {
		struct region **pp;

		for (pp = &A.regions; *pp != NULL; pp = &(*pp)->next) {
			struct region *r = *pp;

			if (r->base != (uint8_t *)h)
				continue;
			*pp = r->next;
			A.st.in_use -= r->size;
			A.st.mapped -= r->size;
			A.st.regions--;
			sodium_memzero(r->base, r->size);
			munlock(r->base, r->size);
			munmap(r->base - A.page, r->size + 2 * A.page);
			free(r);
			return;
		}
		abort();
	}
	/* The free-list link overwrites the header: read cls first. */
	cls = h->cls;
	A.st.in_use -= 1u << (cls + ARENA_MIN_SHIFT);
	((struct free_node *)h)->next = A.free[cls];
	A.free[cls] = (struct free_node *)h;
}

void *idw_arena_realloc(void *p, size_t n)
{
	struct block_hdr *h;
	void *q;

	if (p == NULL)
		return idw_arena_alloc(n);
	h = hdr_of(p);
	if (n <= h->size)
		return p;
	q = idw_arena_alloc(n);
	if (q == NULL)
		return NULL;
	memcpy(q, p, h->size);
	idw_arena_free(p);
	return q;
}

char *idw_arena_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = idw_arena_alloc(n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

void idw_arena_stats(struct idw_arena_stats *st)
{
	*st = A.st;
}

static void *cjson_malloc(size_t n)
{
	return idw_arena_alloc(n);
}

void idw_arena_cjson_hooks(void)
{
	cJSON_Hooks hooks = {cjson_malloc, idw_arena_free};

	cJSON_InitHooks(&hooks);
}
