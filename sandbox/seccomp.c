/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include <seccomp.h>

#include "sandbox/seccomp.h"

/* SCMP_A*() spelled out: its compound literals upset -Wextra in clang. */
static struct scmp_arg_cmp arg_cmp(unsigned arg, enum scmp_compare op,
				   scmp_datum_t a, scmp_datum_t b)
{
	struct scmp_arg_cmp c;

	c.arg = arg;
	c.op = op;
	c.datum_a = a;
	c.datum_b = b;
	return c;
}

static int add_rule(scmp_filter_ctx ctx, const struct idw_sc_rule *r)
{
	int nr = seccomp_syscall_resolve_name(r->name);

	/* A name this architecture lacks (e.g. a 32-bit-only call): skip. */
	if (nr == __NR_SCMP_ERROR)
		return 0;
	switch (r->kind) {
	case IDW_SC_ALLOW:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	case IDW_SC_NO_EXEC:
		return seccomp_rule_add(
			ctx, SCMP_ACT_ALLOW, nr, 1,
			arg_cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	case IDW_SC_FCNTL_GET: {
		static const int cmds[] = {F_GETFL, F_GETFD, F_SETFD};
		int rc = 0;

		for (size_t i = 0; i < 3 && rc == 0; i++)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					      arg_cmp(1, SCMP_CMP_EQ,
						      (scmp_datum_t)cmds[i],
						      0));
		return rc;
	}
	}
	return -EINVAL;
}

int idw_seccomp_install(const struct idw_sc_rule *rules, size_t n)
{
	scmp_filter_ctx ctx;
	int r = IDW_ERR;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return IDW_EPERM;
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		return IDW_ENOMEM;
	/*
	 * Only the native architecture is in the filter: any other, x32
	 * included (libseccomp rejects the x32 bit on x86_64), takes the
	 * bad-architecture action, which kills the process too.
	 */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			     SCMP_ACT_KILL_PROCESS) != 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (add_rule(ctx, &rules[i]) != 0)
			goto out;
	if (seccomp_load(ctx) != 0)
		goto out;
	r = 0;
out:
	seccomp_release(ctx);
	return r;
}
