/* SPDX-License-Identifier: ISC */
#ifndef IDW_PPREF_H
#define IDW_PPREF_H

#include <stddef.h>

#include "agentd/store.h"
#include "common/err.h"

/*
 * A passport reference as a person writes it: its id ("pp_" + 16 hex) or
 * "path/name" (the passport's path, a slash, its name; a passport without
 * a path is named by its name alone), as `idw run --env` and `.env`
 * references (idw://...) give it.
 */
#define PPREF_MAX 4096

/*
 * The passport ref names.  NULL with *err set (IDW_ENOENT when none,
 * IDW_EUSAGE when the ref is malformed or names more than one) and why
 * filled for a person.
 */
struct store_item *ppref_find(struct store *s, const char *ref, int *err,
			      char *why, size_t whylen);

#endif
