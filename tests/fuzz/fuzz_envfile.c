/* SPDX-License-Identifier: ISC */
/*
 * `idw run --env-file` on arbitrary bytes: run_envfile_parse as cli_run.c
 * calls it on a file it read whole.  Success yields only well-formed
 * variables (a shell name, a printable reference, no name twice); a
 * refusal always says why; neither writes past the table.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/run_env.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return sodium_init() < 0 ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run_vars vs;
	char why[300];
	int r;

	memset(&vs, 0, sizeof(vs));
	why[0] = '\0';
	r = run_envfile_parse((const char *)data, size, &vs, why, sizeof(why));
	if (memchr(why, '\0', sizeof(why)) == NULL || vs.n > RUN_VARS_MAX)
		abort();
	if (r != 0) {
		if (why[0] == '\0')
			abort();
		return 0;
	}
	for (size_t i = 0; i < vs.n; i++) {
		if (!run_name_ok(vs.v[i].name) || vs.v[i].ref[0] == '\0' ||
		    memchr(vs.v[i].ref, '\0', RUN_REF_MAX) == NULL)
			abort();
		for (size_t j = 0; j < i; j++)
			if (strcmp(vs.v[i].name, vs.v[j].name) == 0)
				abort();
	}
	return 0;
}
