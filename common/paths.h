/* SPDX-License-Identifier: ISC */
#ifndef IDW_PATHS_H
#define IDW_PATHS_H

#include <stddef.h>

#include "common/err.h"

#define IDW_PATH_MAX 4096
/* sun_path is 108 bytes; longer socket paths are refused with a reason. */
#define IDW_SOCK_PATH_MAX 108

/* $IDW_HOME, else $XDG_DATA_HOME/idw, else $HOME/.local/share/idw. */
int idw_home_path(char *out, size_t len) IDW_WUR;

/*
 * Create the home (and missing parents, 0700) if asked, then check it:
 * a directory, not a link, ours, no group/other bits.  why gets the reason.
 */
int idw_home_ensure(const char *home, int create, char *why,
		    size_t whylen) IDW_WUR;

/*
 * Check a private directory: lstat says directory, owner euid, mode has
 * no group/other bits.  IDW_EPERM with the reason in why otherwise,
 * IDW_ENOENT when missing.
 */
int idw_dir_check(const char *dir, char *why, size_t whylen) IDW_WUR;

/*
 * The agent socket for a home: $IDW_SOCKET, else
 * $XDG_RUNTIME_DIR/idw/agent-<H>.sock, else /tmp/idw-$UID/agent-<H>.sock,
 * H = first 16 hex digits of BLAKE2b-256(realpath(home)).  The home must
 * exist.  dir gets the socket's directory.
 */
int idw_socket_path(const char *home, char *path, size_t plen, char *dir,
		    size_t dlen) IDW_WUR;

/* Create the socket directory 0700 if missing, then idw_dir_check it. */
int idw_socket_dir_ensure(const char *dir, char *why, size_t whylen) IDW_WUR;

/* dst = a "/" b, IDW_ETOOBIG when it does not fit. */
int idw_path_join(char *dst, size_t len, const char *a, const char *b) IDW_WUR;

#endif
