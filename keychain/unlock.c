/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keychain/unlock.h"

void unlock_scrub_env(const char *name)
{
	char *v = getenv(name);

	if (v != NULL)
		sodium_memzero(v, strlen(v));
	unsetenv(name);
}

void unlock_secret_free(struct unlock_secret *s)
{
	if (s->pass != NULL)
		sodium_free(s->pass);
	memset(s, 0, sizeof(*s));
}

static int take(struct unlock_secret *s, const char *source, const void *p,
		size_t n)
{
	s->pass = sodium_malloc(n ? n : 1);
	if (s->pass == NULL)
		return IDW_ENOMEM;
	memcpy(s->pass, p, n);
	s->len = n;
	s->source = source;
	return 0;
}

/* Read a passphrase pipe to its end (the CLI closed its side). */
static int from_fd(int fd, struct unlock_secret *s, char *report, size_t len)
{
	uint8_t *buf = sodium_malloc(UNLOCK_PASS_MAX);
	size_t n = 0;
	int r;

	if (buf == NULL)
		return IDW_ENOMEM;
	for (;;) {
		ssize_t k = read(fd, buf + n, UNLOCK_PASS_MAX - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			snprintf(report, len,
				 "interactive: reading the passphrase pipe "
				 "failed");
			sodium_free(buf);
			return IDW_EUNLOCK;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n == UNLOCK_PASS_MAX) {
			snprintf(report, len,
				 "interactive: passphrase longer than %d "
				 "bytes",
				 UNLOCK_PASS_MAX);
			sodium_free(buf);
			return IDW_EUNLOCK;
		}
	}
	if (n == 0) {
		/* The source is present, but no passphrase is this short. */
		snprintf(report, len,
			 "interactive: the passphrase pipe was empty");
		sodium_free(buf);
		return IDW_EUNLOCK;
	}
	r = take(s, "interactive", buf, n);
	sodium_free(buf);
	return r;
}

int unlock_resolve(int pass_fd, struct unlock_secret *s, char *report,
		   size_t len)
{
	const char *v;
	int r;

	memset(s, 0, sizeof(*s));
	report[0] = '\0';
	if (pass_fd >= 0) {
		r = from_fd(pass_fd, s, report, len);
		close(pass_fd);
		unlock_scrub_env("IDW_PASSPHRASE");
		return r;
	}
	v = getenv("IDW_PASSPHRASE");
	if (v != NULL && v[0] != '\0') {
		r = take(s, "env-var", v, strlen(v));
		unlock_scrub_env("IDW_PASSPHRASE");
		return r;
	}
	unlock_scrub_env("IDW_PASSPHRASE");
	snprintf(report, len,
		 "no unlock source is present: IDW_PASSPHRASE is not set in "
		 "the environment");
	return IDW_ENOENT;
}
