/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of elicitation_answer (agentd/verbs_grants.c): off by
 * default, bound to the grant and the principal that asked, never for a
 * critical passport; decline holds like a person's denial, other answers
 * only deny.
 */
#include "govfx.h"

static cJSON *answer(struct fx *f, const char *gid, const char *ans)
{
	return reqf(f,
		    "{\"verb\":\"elicitation_answer\",\"id\":\"%s\","
		    "\"answer\":\"%s\"}",
		    gid, ans);
}

static void test_elicitation(void **state)
{
	struct fx *f = *state;
	char pp[20], crit[20], g[20], gc[20], g3[20];

	create(f, "\"visa\":{\"type\":\"privilege\"}", pp);
	create(f,
	       "\"visa\":{\"type\":\"privilege\"},"
	       "\"access_tier\":\"critical\"",
	       crit);
	as(f, "token:aaaaaaaaaaaa");
	assert_string_equal(get(f, pp, g), "pending");
	assert_false(idw_json_bool(f->rep.json, "elicitation", true));
	/* Off by default: an accept is refused and the grant waits. */
	answer(f, g, "accept");
	expect(f, "denied");
	assert_string_equal(grant_status_of(f, g), "pending");
	reqf(f, "{\"verb\":\"config_get\",\"key\":\"approval.elicitation\"}");
	assert_string_equal(idw_json_str(f->rep.json, "value"), "off");
	as(f, "local");
	proven(f, verb_config_set,
	       "{\"key\":\"approval.elicitation\",\"value\":\"on\"}");
	expect(f, "ok");
	assert_string_equal(
		idw_json_str(last_audit(f, "config change"), "result"), "ok");
	reqf(f, "{\"verb\":\"config_get\",\"key\":\"approval.elicitation\"}");
	assert_string_equal(idw_json_str(f->rep.json, "value"), "on");
	/* Bound to the principal that asked. */
	answer(f, g, "accept");
	expect(f, "denied");
	as(f, "token:bbbbbbbbbbbb");
	answer(f, g, "accept");
	expect(f, "not_found");
	as(f, "token:aaaaaaaaaaaa");
	assert_string_equal(get(f, pp, NULL), "pending");
	assert_true(idw_json_bool(f->rep.json, "elicitation", false));
	/* Never for a critical passport. */
	assert_string_equal(get(f, crit, gc), "pending");
	assert_false(idw_json_bool(f->rep.json, "elicitation", true));
	answer(f, gc, "accept");
	expect(f, "denied");
	assert_string_equal(grant_status_of(f, gc), "pending");
	answer(f, g, "maybe");
	expect(f, "usage");
	answer(f, g, "accept");
	expect(f, "ok");
	assert_string_equal(grant_status_of(f, g), "approved");
	assert_string_equal(
		idw_json_str(store_find(&f->a.store, "grant", g)->meta, "via"),
		"elicitation");
	assert_string_equal(get(f, pp, NULL), "ok");
	/* A decline is a person's no: it holds like 'idw deny'. */
	answer(f, gc, "decline");
	expect(f, "ok");
	assert_string_equal(grant_status_of(f, gc), "denied");
	assert_string_equal(get(f, crit, NULL), "denied");
	/* A timeout denies the grant but holds nothing back. */
	reqf(f, "{\"verb\":\"grants_revoke\",\"id\":\"%s\"}", g);
	assert_string_equal(get(f, pp, g3), "pending");
	answer(f, g3, "timeout");
	expect(f, "ok");
	assert_string_equal(grant_status_of(f, g3), "denied");
	assert_string_equal(get(f, pp, g), "pending");
	assert_string_not_equal(g, g3);
	answer(f, g3, "accept");
	expect(f, "exists");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_elicitation, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
