/* SPDX-License-Identifier: ISC */
#ifndef IDW_TEST_VAULTFX_H
#define IDW_TEST_VAULTFX_H

/*
 * A vault file under a fresh temporary directory, and whole-file reads
 * and writes, for the unit tests of the vault format (test_vault.c,
 * test_rekey.c).  Include it after <cmocka.h>.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

struct fx {
	char dir[64];
	char path[128];
};

static inline uint8_t *read_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *p;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_int_equal(pread(fd, p, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

static inline void write_file(const char *path, const uint8_t *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, p, len, 0), (ssize_t)len);
	close(fd);
}

static inline int vaultfx_rm_one(const char *p, const struct stat *st, int flag,
				 struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* *state gets a fresh directory made from tmpl and vault.idw in it. */
static inline int vaultfx_setup(void **state, const char *tmpl)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "%s", tmpl);
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/vault.idw", f->dir);
	*state = f;
	return 0;
}

static inline int vaultfx_teardown(void **state)
{
	struct fx *f = *state;

	nftw(f->dir, vaultfx_rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

#endif
