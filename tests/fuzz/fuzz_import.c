/* SPDX-License-Identifier: ISC */
/*
 * The import parsers on arbitrary bytes, as `idw import` runs them on a
 * file: our export format, a .env file (dotenv_walk) and an MCP client
 * config with its rewrite.  The items' value_len add up to the values
 * held, servers' spans lie in order within the input, and a config
 * parsed without mistakes can always be rewritten.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/cli_impfile.h"
#include "client/cli_impmcp.h"
#include "common/jsonu.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_sums(const struct cli_impset *s)
{
	const cJSON *e;
	size_t sum = 0;

	cJSON_ArrayForEach(e, s->items)
	{
		int64_t n = idw_json_int(e, "value_len", -1);

		if (n < 0)
			abort();
		sum += (size_t)n;
	}
	if (sum != s->values.len)
		abort();
	if (s->nbad < (size_t)cJSON_GetArraySize(s->errors))
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return sodium_init() < 0 ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	cJSON *tmpl = cJSON_CreateObject();
	struct cli_impmcp cfg;
	struct cli_impset s;
	struct idw_buf out;

	if (tmpl == NULL)
		return 0;
	cli_impset_init(&s);
	if (cli_impfile_export(text, size, &s) == 0)
		check_sums(&s);
	cli_impset_free(&s);

	cli_impset_init(&s);
	if (cli_impfile_dotenv(text, size, tmpl, &s) == 0)
		check_sums(&s);
	cli_impset_free(&s);

	cli_impset_init(&s);
	if (cli_impmcp_parse(text, size, tmpl, &s, &cfg) == 0) {
		check_sums(&s);
		for (size_t i = 0; i < cfg.nservers; i++)
			if (cfg.servers[i].start >= cfg.servers[i].end ||
			    cfg.servers[i].end > size ||
			    (i > 0 &&
			     cfg.servers[i].start < cfg.servers[i - 1].end))
				abort();
		idw_buf_init(&out, 8u << 20, 0);
		if (s.nbad == 0 &&
		    cli_impmcp_rewrite(text, size, &cfg, "/idw", &out) != 0)
			abort();
		idw_buf_free(&out);
	}
	cli_impmcp_free(&cfg);
	cli_impset_free(&s);
	cJSON_Delete(tmpl);
	return 0;
}
