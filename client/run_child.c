/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "client/run_child.h"

#define RUN_READ_CHUNK 65536
/* After the child exits, what its descendants may still write is cut. */
#define RUN_DRAIN_MAX (16u * 1024u * 1024u)

#define RUN_REAP_MS 200

/* Passed on to the child; SIGCHLD tells us it ended. */
static const int forwarded[] = {SIGINT,	 SIGTERM, SIGHUP,  SIGQUIT,
				SIGUSR1, SIGUSR2, SIGWINCH};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int run_stream_sink(void *ctx, const uint8_t *p, size_t n)
{
	struct run_stream *s = ctx;

	while (n > 0 && !s->broken) {
		ssize_t w = write(s->out_fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = {.fd = s->out_fd, .events = POLLOUT};

			(void)poll(&pf, 1, -1);
			continue;
		}
		if (w <= 0) {
			s->broken = true;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	return s->broken ? IDW_EIO : 0;
}

int run_find_program(const char *program, const char *path, char *out,
		     size_t outlen)
{
	const char *p, *end;
	struct stat st;

	if (program[0] == '\0')
		return IDW_ENOENT;
	if (strchr(program, '/') != NULL) {
		if (snprintf(out, outlen, "%s", program) >= (int)outlen)
			return IDW_ETOOBIG;
		return 0;
	}
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p = end + 1) {
		size_t dl;

		end = strchr(p, ':');
		dl = end ? (size_t)(end - p) : strlen(p);
		/* An empty entry is the working directory, as execvp has it. */
		if (snprintf(out, outlen, "%.*s%s%s", (int)dl, p, dl ? "/" : "",
			     program) < (int)outlen &&
		    stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(out, X_OK) == 0)
			return 0;
		if (end == NULL)
			break;
	}
	out[0] = '\0';
	return IDW_ENOENT;
}

/* In the child, between fork and execve: async-signal-safe calls only. */
static void child_exec(const char *path, char *const argv[], char *const envp[],
		       int outw[2], int errfd, const sigset_t *oldmask)
{
	int e;

	for (int i = 0; i < 2; i++) {
		if (outw[i] < 0)
			continue;
		if (outw[i] == i + 1) {
			if (fcntl(outw[i], F_SETFD, 0) < 0)
				goto fail;
		} else if (dup2(outw[i], i + 1) < 0) {
			goto fail;
		}
	}
	if (sigprocmask(SIG_SETMASK, oldmask, NULL) < 0)
		goto fail;
	execve(path, argv, envp);
fail:
	e = errno;
	(void)!write(errfd, &e, sizeof(e));
	_exit(RUN_EXIT_NOTFOUND);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int run_child_start(struct run_child *ch, const char *path, char *const argv[],
		    char *const envp[], struct run_stream streams[2], char *why,
		    size_t whylen)
{
	int outr[2] = {-1, -1}, outw[2] = {-1, -1}, ep[2] = {-1, -1};
	sigset_t set;
	ssize_t n;
	int e = 0, st, r = IDW_ERR;

	ch->pid = -1;
	ch->sigfd = -1;
	ch->pipes[0] = ch->pipes[1] = -1;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	sigaddset(&set, SIGCHLD);
	/* Blocked before fork, so none is lost between fork and the loop. */
	if (sigprocmask(SIG_BLOCK, &set, &ch->oldmask) < 0 ||
	    (ch->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		snprintf(why, whylen, "signalfd: %s", strerror(errno));
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		int p[2];

		if (streams[i].filter == NULL)
			continue;
		if (pipe2(p, O_CLOEXEC) < 0) {
			snprintf(why, whylen, "pipe: %s", strerror(errno));
			goto out;
		}
		outr[i] = p[0];
		outw[i] = p[1];
		if (fcntl(outr[i], F_SETFL, O_NONBLOCK) < 0) {
			snprintf(why, whylen, "fcntl: %s", strerror(errno));
			goto out;
		}
	}
	if (pipe2(ep, O_CLOEXEC) < 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		goto out;
	}
	if ((ch->pid = fork()) < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		goto out;
	}
	if (ch->pid == 0)
		child_exec(path, argv, envp, outw, ep[1], &ch->oldmask);
	/* A reader gone away ends only that stream, never idw. */
	signal(SIGPIPE, SIG_IGN);
	close_fd(&ep[1]);
	close_fd(&outw[0]);
	close_fd(&outw[1]);
	do
		n = read(ep[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(e)) {
		while (waitpid(ch->pid, &st, 0) < 0 && errno == EINTR)
			;
		ch->pid = -1;
		fprintf(stderr, "idw: %s: %s\n", path, strerror(e));
		r = (e == ENOENT || e == ENOTDIR) ? RUN_EXIT_NOTFOUND
						  : RUN_EXIT_NOEXEC;
		goto out;
	}
	ch->pipes[0] = outr[0];
	ch->pipes[1] = outr[1];
	outr[0] = outr[1] = -1;
	r = 0;
out:
	close_fd(&ep[0]);
	close_fd(&ep[1]);
	for (int i = 0; i < 2; i++) {
		close_fd(&outr[i]);
		close_fd(&outw[i]);
	}
	if (r != 0) {
		close_fd(&ch->sigfd);
		sigprocmask(SIG_SETMASK, &ch->oldmask, NULL);
	}
	return r;
}

/* Read what is there; at EOF (or when out_fd broke) flush and close. */
static void pump(struct run_child *ch, struct run_stream *s, int i,
		 size_t limit)
{
	uint8_t buf[RUN_READ_CHUNK];
	size_t total = 0;

	while (ch->pipes[i] >= 0) {
		ssize_t n = read(ch->pipes[i], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n > 0 && !s->broken &&
		    redact_feed(s->filter, buf, (size_t)n, mono_ms()) != 0)
			s->broken = true;
		if (n <= 0 || s->broken) {
			/* The child sees EPIPE, as it would writing to us. */
			if (!s->broken && redact_flush(s->filter) != 0)
				s->broken = true;
			close_fd(&ch->pipes[i]);
			break;
		}
		total += (size_t)n;
		if (total >= limit)
			break;
	}
	sodium_memzero(buf, sizeof(buf));
}

/* Held bytes that waited REDACT_HOLD_MS go out; the next deadline. */
static int flush_due(struct run_child *ch, struct run_stream streams[2])
{
	uint64_t now = mono_ms();
	int timeout = -1;

	for (int i = 0; i < 2; i++) {
		int64_t held;

		if (ch->pipes[i] < 0 || streams[i].filter == NULL)
			continue;
		held = redact_hold_ms(streams[i].filter, now);
		if (held < 0)
			continue;
		if (held >= REDACT_HOLD_MS) {
			if (redact_flush(streams[i].filter) != 0) {
				streams[i].broken = true;
				close_fd(&ch->pipes[i]);
			}
			continue;
		}
		if (timeout < 0 || REDACT_HOLD_MS - held < timeout)
			timeout = (int)(REDACT_HOLD_MS - held);
	}
	return timeout;
}

static bool on_signals(struct run_child *ch, int *status)
{
	struct signalfd_siginfo si;
	bool exited = false;

	while (read(ch->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			if (waitpid(ch->pid, status, WNOHANG) == ch->pid)
				exited = true;
			continue;
		}
		/*
		 * A signal from the terminal (SI_KERNEL) already went to the
		 * whole foreground process group, the child included; one
		 * sent to idw alone is passed on.
		 */
		if (si.ssi_code != SI_KERNEL)
			(void)kill(ch->pid, (int)si.ssi_signo);
	}
	return exited;
}

int run_child_wait(struct run_child *ch, struct run_stream streams[2])
{
	int status = 0;
	bool exited = false;

	while (!exited) {
		struct pollfd pf[3] = {
			{.fd = ch->sigfd, .events = POLLIN},
			{.fd = ch->pipes[0], .events = POLLIN},
			{.fd = ch->pipes[1], .events = POLLIN},
		};
		int timeout = flush_due(ch, streams);

		/*
		 * SIGCHLD through the signalfd is how an end is seen; a look
		 * every RUN_REAP_MS besides, so a lost or merged one cannot
		 * leave idw waiting on a child that is gone.
		 */
		if (timeout < 0 || timeout > RUN_REAP_MS)
			timeout = RUN_REAP_MS;
		pf[1].fd = ch->pipes[0];
		pf[2].fd = ch->pipes[1];
		if (poll(pf, 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[0].revents & POLLIN)
			exited = on_signals(ch, &status);
		if (!exited && waitpid(ch->pid, &status, WNOHANG) == ch->pid)
			exited = true;
		for (int i = 0; i < 2; i++)
			if (pf[i + 1].revents & (POLLIN | POLLHUP | POLLERR))
				pump(ch, &streams[i], i, RUN_DRAIN_MAX);
	}
	/* What the child wrote before it ended is in the pipes: drain. */
	for (int i = 0; i < 2; i++) {
		pump(ch, &streams[i], i, RUN_DRAIN_MAX);
		if (ch->pipes[i] >= 0) {
			if (!streams[i].broken &&
			    redact_flush(streams[i].filter) != 0)
				streams[i].broken = true;
			close_fd(&ch->pipes[i]);
		}
	}
	close_fd(&ch->sigfd);
	sigprocmask(SIG_SETMASK, &ch->oldmask, NULL);
	if (!exited)
		return 1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
