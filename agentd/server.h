/* SPDX-License-Identifier: ISC */
#ifndef IDW_SERVER_H
#define IDW_SERVER_H

#include "agentd/agent.h"

#define SERVER_MAX_CLIENTS 240
#define SERVER_HELLO_TIMEOUT_MS 5000

/*
 * Bind the agent's socket under umask 0177.  A stale socket file is
 * removed first: the caller holds agentd.lock, so no live agent owns it.
 */
int server_listen(struct agent *a, int *fd, char *why, size_t whylen) IDW_WUR;

/*
 * Serve until 'stop', a signal (sigfd, a signalfd) or the idle timeout.
 * One poll loop, non-blocking sockets; a connection's next request is
 * read only after its last reply was written out.
 */
int server_run(struct agent *a, int listen_fd, int sigfd) IDW_WUR;

#endif
