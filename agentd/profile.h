/* SPDX-License-Identifier: ISC */
#ifndef IDW_PROFILE_H
#define IDW_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "agentd/store.h"
#include "common/err.h"

/*
 * Run profiles (DESIGN "Use without reveal"): a program a person pinned,
 * with its arguments and the variables it gets, each bound to a passport
 * id.  Journal records of kind "profile", id = the profile's name:
 * {name, program, args[], env{VAR: passport id}, created, created_by}.
 */
#define PROFILE_NAME_MAX 63 /* a store id */
#define PROFILE_VAR_MAX 128
#define PROFILE_VARS_MAX 64
#define PROFILE_ARGS_MAX 256
#define PROFILE_PATH_MAX 4096
#define PROFILE_BYTES_MAX 8192 /* the record as JSON text */
#define PROFILES_MAX 100       /* so a whole list fits one frame */

/* [A-Za-z0-9._-]{1,64} */
bool profile_name_valid(const char *name);
/* An environment name ([A-Za-z_][A-Za-z0-9_]*, at most 128) not IDW_*. */
bool profile_var_valid(const char *var);

/*
 * The record of a profile_add request: name, program (absolute), args
 * and env checked, every passport reference resolved to its id in s.
 * IDW_EUSAGE / IDW_ENOENT / IDW_ETOOBIG with why set for a person.
 */
int profile_from_request(struct store *s, const cJSON *req, const char *created,
			 const char *by, cJSON **out, char *why,
			 size_t whylen) IDW_WUR;

/* The passport id the profile pins var to, or NULL. */
const char *profile_var_passport(const cJSON *profile, const char *var);

#endif
