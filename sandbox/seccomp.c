/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include <seccomp.h>

#include "sandbox/seccomp.h"

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
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	case IDW_SC_FCNTL_GET: {
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					  SCMP_A1(SCMP_CMP_EQ, F_GETFL));

		if (rc == 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					      SCMP_A1(SCMP_CMP_EQ, F_GETFD));
		if (rc == 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					      SCMP_A1(SCMP_CMP_EQ, F_SETFD));
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
