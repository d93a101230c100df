/* SPDX-License-Identifier: ISC */
#include <string.h>

#include "common/err.h"

struct err_row {
	int code;
	const char *name; /* stable wire name */
	int exit_status;  /* CLI exit status */
	const char *text;
};

static const struct err_row err_table[] = {
	{IDW_OK, "ok", 0, "success"},
	{IDW_ERR, "error", 1, "operation failed"},
	{IDW_ENOMEM, "nomem", 1, "out of memory"},
	{IDW_EIO, "io", 1, "input/output error"},
	{IDW_EINVAL, "invalid", 1, "malformed input"},
	{IDW_ETOOBIG, "too_big", 1, "input over its size limit"},
	{IDW_ENOENT, "not_found", 1, "not found"},
	{IDW_EEXIST, "exists", 1, "already exists"},
	{IDW_EUSAGE, "usage", 2, "invalid arguments"},
	{IDW_EDENIED, "denied", 3, "denied by policy"},
	{IDW_EPENDING, "pending", 4, "approval pending"},
	{IDW_EUNLOCK, "unlock_failed", 5, "unlock failed"},
	{IDW_EPROOF, "proof_failed", 6, "person proof failed"},
	{IDW_ELOCKED, "locked", 5, "the agent is locked: run 'idw unlock'"},
	{IDW_ENOVAULT, "no_vault", 5, "no vault here: run 'idw init'"},
	{IDW_ECORRUPT, "corrupt", 1, "data failed authentication"},
	{IDW_EVERSION, "version", 1, "version not understood"},
	{IDW_EPERM, "permission", 1, "ownership or mode check failed"},
	{IDW_EAGENT, "agent", 1, "the agent could not be reached"},
	{IDW_ETRUNCATED, "truncated", 1, "input ended early"},
	{IDW_ENOAGENT, "no_agent", 1, "no agent is running"},
};

static const struct err_row *err_find(int err)
{
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].code == err)
			return &err_table[i];
	return &err_table[1];
}

const char *idw_strerror(int err)
{
	return err_find(err)->text;
}

const char *idw_err_name(int err)
{
	return err_find(err)->name;
}

int idw_err_exit(int err)
{
	return err_find(err)->exit_status;
}

int idw_err_from_name(const char *name)
{
	if (name == NULL)
		return IDW_ERR;
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (strcmp(err_table[i].name, name) == 0)
			return err_table[i].code;
	return IDW_ERR;
}
