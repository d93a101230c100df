/* SPDX-License-Identifier: ISC */
#ifndef IDW_POLICY_H
#define IDW_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

/*
 * One evaluator for the CLI and idw-mcp alike.  It decides from the
 * passport, the principal asking and the time; it releases nothing and
 * writes no audit entry itself.
 */
enum policy_effect {
	POLICY_ALLOW = 0,
	POLICY_REQUIRE_APPROVAL = 1,
	POLICY_DENY = 2,
};

struct policy_result {
	enum policy_effect effect;
	cJSON *violations; /* [{rule, effect, message}] */
	char reason[256];  /* the deciding reason, for a person */
};

int policy_evaluate(const cJSON *passport, const char *principal, int64_t now,
		    struct policy_result *res) IDW_WUR;
void policy_result_free(struct policy_result *res);
const char *policy_effect_name(enum policy_effect e);

#endif
