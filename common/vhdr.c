/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/vhdr.h"

int idw_vhdr_peek_id(const char *path, uint8_t id[IDW_VHDR_ID_LEN])
{
	uint8_t hdr[IDW_VHDR_PREFIX_LEN];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? IDW_ENOENT : IDW_EIO;
	do
		n = pread(fd, hdr, sizeof(hdr), 0);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n == 0)
		return IDW_ENOENT;
	if (n != (ssize_t)sizeof(hdr) || memcmp(hdr, IDW_VHDR_MAGIC, 4) != 0)
		return IDW_ECORRUPT;
	memcpy(id, hdr + IDW_VHDR_ID_OFF, IDW_VHDR_ID_LEN);
	return 0;
}
