/* SPDX-License-Identifier: ISC */
#ifndef IDW_CLI_INPUT_H
#define IDW_CLI_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

/*
 * Reading secrets: credential values and passphrases.  Every function
 * fills a buffer the caller made with idw_buf_init(b, max, IDW_BUF_SECURE)
 * so the bytes only ever live in guarded, locked memory; the caller wipes
 * them with idw_buf_free.
 */
#define CLI_VALUE_MAX (64u * 1024u)
#define CLI_PASS_MAX 1024u
#define CLI_PASS_MIN 8u

/* Remove one trailing LF or CRLF. */
void cli_strip_newline(struct idw_buf *b);

/*
 * Read fd to end of file into b and remove one trailing newline.
 * IDW_ETOOBIG when more than max bytes (after the newline) arrive.
 */
int cli_read_all(int fd, struct idw_buf *b, size_t max) IDW_WUR;

/*
 * Read the first line of fd (without its LF or CRLF), one byte at a time
 * so nothing after it is consumed.  IDW_ETRUNCATED when fd ends before any
 * byte was read.
 */
int cli_read_line(int fd, struct idw_buf *b, size_t max) IDW_WUR;

/*
 * Print prompt on /dev/tty and read one line with echo off.  IDW_ENOENT
 * when there is no terminal to ask; IDW_ERR when interrupted.
 */
int cli_prompt_tty(const char *prompt, struct idw_buf *b, size_t max) IDW_WUR;

/* Whether /dev/tty can be opened (a person may be asked). */
bool cli_have_tty(void);

/*
 * A passphrase for unlock or init: $IDW_PASSPHRASE, else the first line
 * of stdin when from_stdin, else asked on /dev/tty.  A new passphrase
 * (is_new) is typed twice on a terminal and must have at least
 * CLI_PASS_MIN bytes.  why gets the reason on failure.
 */
int cli_passphrase(bool from_stdin, bool is_new, const char *prompt,
		   struct idw_buf *b, char *why, size_t whylen) IDW_WUR;

#endif
