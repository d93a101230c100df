/* SPDX-License-Identifier: ISC */
#ifndef IDW_RUN_CHILD_H
#define IDW_RUN_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

#include "client/redact.h"
#include "common/err.h"

/*
 * The child of `idw run`: started with execve and an environment built by
 * run_env, stdin its own, stdout and stderr either idw's own (no
 * redaction) or pipes pumped through a redact filter each; the signals a
 * person sends to idw are passed on; idw's exit status is the child's.
 */
#define RUN_EXIT_NOEXEC 126   /* found but could not be run */
#define RUN_EXIT_NOTFOUND 127 /* no such program */

/* One output stream of the child. */
struct run_stream {
	int out_fd;	       /* where the bytes go: 1 or 2 */
	bool broken;	       /* writing to out_fd failed */
	struct redact *filter; /* NULL: the child writes to out_fd itself */
};

/* A redact_sink writing to a struct run_stream's out_fd. */
int run_stream_sink(void *ctx, const uint8_t *p, size_t n);

/*
 * Find program as execvp would, in path (a PATH value; NULL: the
 * default), into out.  IDW_ENOENT when there is none.
 */
int run_find_program(const char *program, const char *path, char *out,
		     size_t outlen) IDW_WUR;

struct run_child {
	pid_t pid;
	int sigfd;	  /* signalfd of the forwarded signals and SIGCHLD */
	int pipes[2];	  /* read ends of stdout and stderr, or -1 */
	sigset_t oldmask; /* idw's mask before run_child_start */
};

/*
 * Start the program.  Returns 0 once it runs (execve succeeded), or the
 * exit status to give (126, 127) with the reason printed; a negative
 * IDW_E* code when idw itself failed (why says what).  envp may be wiped
 * as soon as this returns.
 */
int run_child_start(struct run_child *ch, const char *path, char *const argv[],
		    char *const envp[], struct run_stream streams[2], char *why,
		    size_t whylen);

/*
 * Pump output and pass signals on until the child exits and its output
 * is written; the child's exit status as a shell gives it (128+N after
 * signal N).
 */
int run_child_wait(struct run_child *ch, struct run_stream streams[2]);

#endif
