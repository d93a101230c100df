/* SPDX-License-Identifier: ISC */
#ifndef IDW_ERR_H
#define IDW_ERR_H

/*
 * Every function that can fail returns 0 or a negative IDW_E* code.
 * idw_strerror() gives the sentence a person sees; idw_err_exit() the exit
 * status of the CLI; idw_err_name() the stable word used on the wire.
 */
enum idw_err {
	IDW_OK = 0,
	IDW_ERR = -1,	      /* generic failure */
	IDW_ENOMEM = -2,      /* out of memory */
	IDW_EIO = -3,	      /* read, write or fsync failed */
	IDW_EINVAL = -4,      /* malformed input */
	IDW_ETOOBIG = -5,     /* over a size bound */
	IDW_ENOENT = -6,      /* no such passport, file or item */
	IDW_EEXIST = -7,      /* already exists */
	IDW_EUSAGE = -8,      /* bad command line or request arguments */
	IDW_EDENIED = -9,     /* refused by policy or status */
	IDW_EPENDING = -10,   /* approval pending */
	IDW_EUNLOCK = -11,    /* unlock failed (wrong passphrase, no source) */
	IDW_EPROOF = -12,     /* person proof failed */
	IDW_ELOCKED = -13,    /* the agent is locked */
	IDW_ENOVAULT = -14,   /* no vault: run 'idw init' */
	IDW_ECORRUPT = -15,   /* vault or log failed authentication */
	IDW_EVERSION = -16,   /* format or wire version not understood */
	IDW_EPERM = -17,      /* ownership or mode check failed */
	IDW_EAGENT = -18,     /* the agent could not be reached or went away */
	IDW_ETRUNCATED = -19, /* a short read that may be completed later */
	IDW_ENOAGENT = -20    /* no agent runs (and none was to be started) */
};

#define IDW_WUR __attribute__((warn_unused_result))

const char *idw_strerror(int err);
const char *idw_err_name(int err);
int idw_err_from_name(const char *name);
int idw_err_exit(int err);

#endif
