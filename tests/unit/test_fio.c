/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fio.h"

static void test_write_then_read(void **state)
{
	int fd = memfd_create("test_fio", MFD_CLOEXEC);
	uint8_t big[200000], back[sizeof(big)];

	(void)state;
	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	/* At an offset past the end: the gap reads as zeros. */
	assert_int_equal(idw_pwrite_all(fd, big, sizeof(big), 10), 0);
	assert_int_equal(idw_pread_all(fd, back, sizeof(back), 10), 0);
	assert_memory_equal(back, big, sizeof(big));
	assert_int_equal(idw_pread_all(fd, back, 10, 0), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(back[i], 0);
	/* Nothing to do is done. */
	assert_int_equal(idw_pread_all(fd, back, 0, 1u << 30), 0);
	assert_int_equal(idw_pwrite_all(fd, big, 0, 0), 0);
	close(fd);
}

static void test_end_of_file_and_errors(void **state)
{
	int fd = memfd_create("test_fio", MFD_CLOEXEC);
	uint8_t b[16] = {1, 2, 3};

	(void)state;
	assert_int_equal(idw_pwrite_all(fd, b, 8, 0), 0);
	/* Fewer bytes than asked for: the file ends first. */
	assert_int_equal(idw_pread_all(fd, b, 16, 0), IDW_ETRUNCATED);
	assert_int_equal(idw_pread_all(fd, b, 1, 8), IDW_ETRUNCATED);
	close(fd);
	errno = 0;
	assert_int_equal(idw_pread_all(fd, b, 1, 0), IDW_EIO);
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_int_equal(idw_pwrite_all(fd, b, 1, 0), IDW_EIO);
	assert_int_equal(errno, EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_then_read),
		cmocka_unit_test(test_end_of_file_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
