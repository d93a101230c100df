/* SPDX-License-Identifier: ISC */
#ifndef IDW_FIO_H
#define IDW_FIO_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * Whole reads and writes at an offset, through short counts and EINTR:
 * the loops every file format of ours needs.
 */

/* n bytes at off into p: 0, IDW_ETRUNCATED at end of file, or IDW_EIO. */
int idw_pread_all(int fd, void *p, size_t n, uint64_t off) IDW_WUR;

/*
 * n bytes of p at off: 0 or IDW_EIO with errno set (ENOSPC when the
 * system wrote nothing and said no error).
 */
int idw_pwrite_all(int fd, const void *p, size_t n, uint64_t off) IDW_WUR;

#endif
