/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "sandbox/arena.h"

#define HDR 16 /* the arena's per-block header */

static int arena_flags;

static int group_setup(void **state)
{
	(void)state;
	if (idw_arena_init(0) == 0)
		return 0;
	/* Not enough RLIMIT_MEMLOCK here: test the rest unlocked. */
	fprintf(stderr, "arena: %s\n", idw_arena_lock_error());
	arena_flags = IDW_ARENA_ALLOW_UNLOCKED;
	return idw_arena_init(IDW_ARENA_ALLOW_UNLOCKED) == 0 ? 0 : -1;
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static void test_alloc_basic(void **state)
{
	uint8_t *a, *b, *z;
	int x;

	(void)state;
	a = idw_arena_alloc(10);
	b = idw_arena_alloc(1000);
	z = idw_arena_alloc(0);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(z);
	assert_true(a != b && a != z && b != z);
	/* Aligned for any type. */
	assert_int_equal((uintptr_t)a % 16, 0);
	assert_int_equal((uintptr_t)b % 16, 0);
	memset(a, 0x11, 10);
	memset(b, 0x22, 1000);
	assert_int_equal(a[9], 0x11);
	assert_int_equal(b[0], 0x22);
	assert_true(idw_arena_owns(a));
	assert_true(idw_arena_owns(b + 999));
	assert_false(idw_arena_owns(&x));
	assert_false(idw_arena_owns(NULL));
	idw_arena_free(a);
	idw_arena_free(b);
	idw_arena_free(z);
	idw_arena_free(NULL);
}

static void test_owns_malloc(void **state)
{
	void *m = malloc(64);

	(void)state;
	assert_non_null(m);
	assert_false(idw_arena_owns(m));
	free(m);
}

static void test_free_wipes_and_reuses(void **state)
{
	uint8_t *p, *q;

	(void)state;
	p = idw_arena_alloc(100);
	assert_non_null(p);
	memset(p, 0xaa, 100);
	idw_arena_free(p);
	/*
	 * The block stays mapped on its free list: its bytes must already
	 * be zero, before anyone reuses it.
	 */
	assert_true(all_zero(p, 100));
	q = idw_arena_alloc(90); /* same size class */
	assert_ptr_equal(q, p);
	idw_arena_free(q);
}

static void test_calloc_zeroes(void **state)
{
	uint8_t *p;

	(void)state;
	p = idw_arena_calloc(25, 4);
	assert_non_null(p);
	assert_true(all_zero(p, 100));
	idw_arena_free(p);
	assert_null(idw_arena_calloc(SIZE_MAX / 2, 3));
	assert_null(idw_arena_calloc(3, SIZE_MAX / 2));
	p = idw_arena_calloc(0, 10);
	assert_non_null(p);
	idw_arena_free(p);
}

static void test_realloc_moves(void **state)
{
	uint8_t *p, *q, *r;

	(void)state;
	p = idw_arena_realloc(NULL, 20);
	assert_non_null(p);
	memcpy(p, "0123456789abcdefghi", 20);
	/* Shrinking or growing within the block keeps it. */
	assert_ptr_equal(idw_arena_realloc(p, 5), p);
	assert_ptr_equal(idw_arena_realloc(p, 16), p);
	q = idw_arena_realloc(p, 500);
	assert_non_null(q);
	assert_true(q != p);
	assert_memory_equal(q, "0123456789abcdefghi", 20);
	/* The old block was wiped when it was left. */
	assert_true(all_zero(p, 16));
	/* Into a large block and back. */
	r = idw_arena_realloc(q, 200000);
	assert_non_null(r);
	assert_memory_equal(r, "0123456789abcdefghi", 20);
	memset(r + 20, 0x33, 200000 - 20);
	assert_ptr_equal(idw_arena_realloc(r, 1000), r);
	idw_arena_free(r);
}

static void test_stats_and_classes(void **state)
{
	struct idw_arena_stats s0, s1;
	void *a, *b, *c;

	(void)state;
	idw_arena_stats(&s0);
	assert_true(s0.regions >= 1);
	assert_true(s0.mapped >= (64u << 10)); /* the first pool region */
	if (arena_flags == 0)
		assert_true(s0.locked);

	a = idw_arena_alloc(32 - HDR); /* fits 32 with its header */
	idw_arena_stats(&s1);
	assert_int_equal(s1.in_use - s0.in_use, 32);
	b = idw_arena_alloc(32 - HDR + 1); /* one byte more: 64 */
	idw_arena_stats(&s1);
	assert_int_equal(s1.in_use - s0.in_use, 32 + 64);
	c = idw_arena_alloc((1u << 16) - HDR); /* the largest class */
	idw_arena_stats(&s1);
	/* Still a class block, not a page-rounded region of its own. */
	assert_int_equal(s1.in_use - s0.in_use, 32 + 64 + 65536);
	idw_arena_free(a);
	idw_arena_free(b);
	idw_arena_free(c);
	idw_arena_stats(&s1);
	assert_int_equal(s1.in_use, s0.in_use);
}

static void test_large_blocks(void **state)
{
	struct idw_arena_stats s0, s1;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *p, *q;

	(void)state;
	idw_arena_stats(&s0);
	/* Past the largest class: its own guarded region. */
	p = idw_arena_alloc((1u << 16) - HDR + 1);
	assert_non_null(p);
	idw_arena_stats(&s1);
	assert_int_equal(s1.regions, s0.regions + 1);
	assert_true(s1.mapped - s0.mapped >= (1u << 16));
	assert_int_equal((s1.mapped - s0.mapped) % page, 0);
	assert_int_equal(s1.in_use - s0.in_use, s1.mapped - s0.mapped);
	memset(p, 0x44, (1u << 16) - HDR + 1);
	assert_true(idw_arena_owns(p));

	q = idw_arena_alloc(3u << 20); /* bigger than a whole region */
	assert_non_null(q);
	memset(q, 0x55, 3u << 20);
	assert_true(idw_arena_owns(q + (3u << 20) - 1));
	idw_arena_free(q);
	/* Unmapped on free: the arena no longer claims it. */
	assert_false(idw_arena_owns(q));
	idw_arena_free(p);
	assert_false(idw_arena_owns(p));
	idw_arena_stats(&s1);
	assert_int_equal(s1.regions, s0.regions);
	assert_int_equal(s1.mapped, s0.mapped);
	assert_int_equal(s1.in_use, s0.in_use);
}

static void test_new_region_when_full(void **state)
{
	struct idw_arena_stats s0, s1;
	void *p[40];

	(void)state;
	idw_arena_stats(&s0);
	/* 40 blocks of 64 KiB cannot fit in one 1 MiB region. */
	for (int i = 0; i < 40; i++) {
		p[i] = idw_arena_alloc((1u << 16) - HDR);
		assert_non_null(p[i]);
		memset(p[i], i, (1u << 16) - HDR);
	}
	idw_arena_stats(&s1);
	assert_true(s1.regions > s0.regions);
	for (int i = 0; i < 40; i++) {
		assert_true(idw_arena_owns(p[i]));
		assert_int_equal(((uint8_t *)p[i])[100], i);
		idw_arena_free(p[i]);
	}
	idw_arena_stats(&s1);
	assert_int_equal(s1.in_use, s0.in_use);
}

static void test_huge_sizes_refused(void **state)
{
	struct idw_arena_stats s0, s1;

	(void)state;
	idw_arena_stats(&s0);
	/* Sizes whose rounding would wrap must fail, not return a tiny block.
	 */
	assert_null(idw_arena_alloc(SIZE_MAX));
	assert_null(idw_arena_alloc(SIZE_MAX - HDR + 1));
	assert_null(idw_arena_alloc(SIZE_MAX - 4095));
	assert_null(idw_arena_realloc(NULL, SIZE_MAX));
	idw_arena_stats(&s1);
	assert_int_equal(s1.in_use, s0.in_use);
}

static void test_strdup(void **state)
{
	char *s;

	(void)state;
	s = idw_arena_strdup("passport metadata");
	assert_non_null(s);
	assert_string_equal(s, "passport metadata");
	assert_true(idw_arena_owns(s));
	idw_arena_free(s);
}

static void test_cjson_hooks(void **state)
{
	struct idw_arena_stats s0, s1;
	const char *txt = "{\"name\":\"OpenAI Production\",\"tags\":[\"a\"]}";
	cJSON *j, *name;
	char *out;

	(void)state;
	idw_arena_cjson_hooks();
	idw_arena_stats(&s0);
	j = cJSON_ParseWithLength(txt, strlen(txt));
	assert_non_null(j);
	name = cJSON_GetObjectItemCaseSensitive(j, "name");
	assert_true(cJSON_IsString(name));
	/* Items, keys and strings all live in the arena. */
	assert_true(idw_arena_owns(j));
	assert_true(idw_arena_owns(name));
	assert_true(idw_arena_owns(name->string));
	assert_true(idw_arena_owns(name->valuestring));
	idw_arena_stats(&s1);
	assert_true(s1.in_use > s0.in_use);
	out = cJSON_PrintUnformatted(j);
	assert_non_null(out);
	assert_true(idw_arena_owns(out));
	assert_string_equal(out, txt);
	cJSON_free(out);
	cJSON_Delete(j);
	idw_arena_stats(&s1);
	assert_int_equal(s1.in_use, s0.in_use);
	cJSON_InitHooks(NULL);
	j = cJSON_CreateObject();
	assert_false(idw_arena_owns(j));
	cJSON_Delete(j);
}

/* Run fn in a child; return its wait status. */
static int in_child(void (*fn)(void *), void *arg)
{
	pid_t pid;
	int st = 0;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka catches SIGSEGV to fail a test: die of it here. */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		fn(arg);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void child_double_free(void *arg)
{
	void *p = idw_arena_alloc(40);

	(void)arg;
	idw_arena_free(p);
	idw_arena_free(p); /* a broken invariant: must abort */
}

static void child_foreign_free(void *arg)
{
	uint8_t buf[64] = {0};

	(void)arg;
	idw_arena_free(buf + 32);
}

static void test_bad_free_aborts(void **state)
{
	int st;

	(void)state;
	st = in_child(child_double_free, NULL);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
	st = in_child(child_foreign_free, NULL);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
}

static void child_read_secret(void *arg)
{
	const uint8_t *p = arg;

	/* After fork the arena reads as zeros (MADV_WIPEONFORK). */
	_exit(all_zero(p, 64) ? 0 : 1);
}

static void test_wipe_on_fork(void **state)
{
	uint8_t *p = idw_arena_alloc(64);
	int st;

	(void)state;
	assert_non_null(p);
	memset(p, 0x5e, 64);
	st = in_child(child_read_secret, p);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(p[63], 0x5e); /* the parent keeps its copy */
	idw_arena_free(p);
}

static void child_touch_guard(void *arg)
{
	volatile uint8_t *p = arg;

	p[0] = 1; /* first byte past the block: the trailing guard page */
}

static void child_touch_front_guard(void *arg)
{
	volatile uint8_t *p = arg;

	p[-1] = 1; /* just before the region */
}

static void test_guard_pages(void **state)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = 32 * page - HDR; /* a large block filling its region */
	uint8_t *p = idw_arena_alloc(n);
	int st;

	(void)state;
	assert_non_null(p);
	memset(p, 1, n);
	st = in_child(child_touch_guard, p + n);
	/* Either killed by SIGSEGV or stopped by a sanitizer's handler. */
	assert_false(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = in_child(child_touch_front_guard, p - HDR);
	assert_false(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	idw_arena_free(p);
}

/* VmFlags of the mapping that holds p, from /proc/self/smaps. */
static int vmflags_of(const void *p, char *flags, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0, found = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		if (in && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(flags, len, "%s", line + 8);
			found = 1;
			break;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

static void test_mapping_flags(void **state)
{
	void *p = idw_arena_alloc(64);
	char flags[512];

	(void)state;
	assert_non_null(p);
	if (vmflags_of(p, flags, sizeof(flags)) != 0) {
		idw_arena_free(p);
		skip();
	}
	assert_non_null(strstr(flags, " dd")); /* MADV_DONTDUMP */
	assert_non_null(strstr(flags, " wf")); /* MADV_WIPEONFORK */
#ifndef IDW_SANITIZER_BUILD
	/* ASan and friends turn mlock into a no-op that returns 0. */
	if (arena_flags == 0)
		assert_non_null(strstr(flags, " lo")); /* mlock'd */
#endif
	idw_arena_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_basic),
		cmocka_unit_test(test_owns_malloc),
		cmocka_unit_test(test_free_wipes_and_reuses),
		cmocka_unit_test(test_calloc_zeroes),
		cmocka_unit_test(test_realloc_moves),
		cmocka_unit_test(test_stats_and_classes),
		cmocka_unit_test(test_large_blocks),
		cmocka_unit_test(test_new_region_when_full),
		cmocka_unit_test(test_huge_sizes_refused),
		cmocka_unit_test(test_strdup),
		cmocka_unit_test(test_cjson_hooks),
		cmocka_unit_test(test_bad_free_aborts),
		cmocka_unit_test(test_wipe_on_fork),
		cmocka_unit_test(test_guard_pages),
		cmocka_unit_test(test_mapping_flags),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
