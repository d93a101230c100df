/* SPDX-License-Identifier: ISC */
/*
 * The .env parser on arbitrary bytes, as the agent and `idw auth status`
 * run it on a file read by dotenv_read_file: look up IDW_PASSPHRASE, then
 * another key.  A value handed out lies within the input and is
 * NUL-terminated; a refusal hands out nothing; a malformed file is refused
 * whole, with the same reason whatever key is asked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keychain/dotenv.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lookup(const uint8_t *data, size_t size, const char *key, char *why,
		  size_t whylen)
{
	uint8_t *val = (uint8_t *)"stale";
	size_t vlen = (size_t)-1;
	int r;

	why[0] = '\0';
	r = dotenv_get((const char *)data, size, key, &val, &vlen, why, whylen);
	if (memchr(why, '\0', whylen) == NULL)
		abort();
	if (r != 0) {
		if (val != NULL || vlen != 0 || why[0] == '\0')
			abort();
		if (r != IDW_ENOENT && r != IDW_EINVAL && r != IDW_ETOOBIG &&
		    r != IDW_ENOMEM)
			abort();
		return r;
	}
	/* Decoding never grows a value: it fits in the line it came from. */
	if (val == NULL || vlen >= size || val[vlen] != '\0')
		abort();
	sodium_free(val);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return sodium_init() < 0 ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why1[256], why2[256];
	int r1, r2;

	r1 = lookup(data, size, "IDW_PASSPHRASE", why1, sizeof(why1));
	r2 = lookup(data, size, "IDW_HOME", why2, sizeof(why2));
	if ((r1 == IDW_EINVAL) != (r2 == IDW_EINVAL) ||
	    (r1 == IDW_ETOOBIG) != (r2 == IDW_ETOOBIG))
		abort();
	if (r1 == IDW_EINVAL && strcmp(why1, why2) != 0)
		abort();
	return 0;
}
