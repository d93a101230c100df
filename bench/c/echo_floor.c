/* SPDX-License-Identifier: ISC */
/*
 * echo_floor SOCK: the least a single-threaded poll loop serving framed
 * requests on a Unix socket can do.  It reads whole frames (12-byte header
 * with the body length first, as idw's) and writes each one back; the
 * "reply" to a hello is its echo too.  Says "ready" on stdout once
 * listening; ends at stdin EOF.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAXC 256

struct client {
	uint8_t *buf;
	size_t len, cap;
};

static struct client cl[MAXC + 2];

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct pollfd pf[MAXC + 2];
	int lfd, n = 2;

	if (argc != 2)
		return 2;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	unlink(argv[1]);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 256) != 0)
		return 1;
	if (write(1, "ready\n", 6) != 6)
		return 1;
	pf[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
	pf[1] = (struct pollfd){.fd = 0, .events = POLLIN};
	for (;;) {
		if (poll(pf, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pf[1].revents) {
			char b[64];

			if (read(0, b, sizeof(b)) <= 0)
				break;
		}
		if ((pf[0].revents & POLLIN) && n < MAXC + 2) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0) {
				pf[n] = (struct pollfd){.fd = fd,
							.events = POLLIN};
				cl[n] = (struct client){.buf = malloc(1 << 16),
							.cap = 1 << 16};
				n++;
			}
		}
		for (int i = 2; i < n; i++) {
			struct client *c = &cl[i];
			ssize_t r;

			if (!pf[i].revents)
				continue;
			r = read(pf[i].fd, c->buf + c->len, c->cap - c->len);
			if (r <= 0) {
				close(pf[i].fd);
				free(c->buf);
				pf[i] = pf[n - 1];
				cl[i] = cl[n - 1];
				n--;
				i--;
				continue;
			}
			c->len += (size_t)r;
			while (c->len >= 12) {
				uint32_t bl = (uint32_t)c->buf[0] |
					      (uint32_t)c->buf[1] << 8 |
					      (uint32_t)c->buf[2] << 16 |
					      (uint32_t)c->buf[3] << 24;
				size_t fl = 12 + (size_t)bl, off = 0;

				if (fl > c->cap) {
					c->cap = fl;
					c->buf = realloc(c->buf, c->cap);
					if (c->buf == NULL)
						return 1;
				}
				if (c->len < fl)
					break;
				while (off < fl) {
					ssize_t w =
						write(pf[i].fd, c->buf + off,
						      fl - off);

					if (w <= 0)
						break;
					off += (size_t)w;
				}
				memmove(c->buf, c->buf + fl, c->len - fl);
				c->len -= fl;
			}
		}
	}
	unlink(argv[1]);
	return 0;
}
