/* SPDX-License-Identifier: ISC */
/*
 * empty_libs: a program that does nothing but link libsodium, cJSON and
 * libseccomp (the libraries idw-mcp links), initialise libsodium, take one
 * 64 KiB sodium_malloc block, say "ready" and wait for stdin to close.
 * Its VmRSS is the floor for idw-mcp's.
 */
#include <stdio.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <seccomp.h>
#include <sodium.h>

int main(void)
{
	char buf[256];
	void *p;

	if (sodium_init() < 0 || (p = sodium_malloc(65536)) == NULL)
		return 1;
	/* Touch each library so none is dropped at link time. */
	if (cJSON_Version() == NULL || seccomp_version() == NULL)
		return 1;
	if (write(1, "ready\n", 6) != 6)
		return 1;
	while (read(0, buf, sizeof(buf)) > 0)
		;
	sodium_free(p);
	return 0;
}
