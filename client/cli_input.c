/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "client/cli_input.h"
#include "common/jsonu.h"

void cli_strip_newline(struct idw_buf *b)
{
	if (b->len > 0 && b->d[b->len - 1] == '\n') {
		b->len--;
		if (b->len > 0 && b->d[b->len - 1] == '\r')
			b->len--;
		sodium_memzero(b->d + b->len, b->cap - b->len);
	}
}

int cli_read_all(int fd, struct idw_buf *b, size_t max)
{
	const size_t chunk = 4096;
	size_t room;
	ssize_t n;
	int r;

	for (;;) {
		if (b->len >= b->max) {
			uint8_t probe;

			/* Full: one more byte means the input is too big. */
			do {
				n = read(fd, &probe, 1);
			} while (n < 0 && errno == EINTR);
			sodium_memzero(&probe, sizeof(probe));
			if (n < 0)
				return IDW_EIO;
			if (n > 0)
				return IDW_ETOOBIG;
			break;
		}
		room = b->max - b->len < chunk ? b->max - b->len : chunk;
		if ((r = idw_buf_reserve(b, room)) != 0)
			return r;
		n = read(fd, b->d + b->len, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return IDW_EIO;
		if (n == 0)
			break;
		b->len += (size_t)n;
	}
	cli_strip_newline(b);
	return b->len > max ? IDW_ETOOBIG : 0;
}

static volatile sig_atomic_t tty_signo;

static void tty_on_signal(int signo)
{
	tty_signo = signo;
}

/* Byte at a time up to LF; a signal stops it when stop_on_signal. */
static int read_line(int fd, struct idw_buf *b, size_t max, bool stop_on_signal)
{
	bool any = false;
	ssize_t n;
	int r;

	for (;;) {
		if ((r = idw_buf_reserve(b, 1)) != 0)
			return r;
		n = read(fd, b->d + b->len, 1);
		if (n < 0 && errno == EINTR) {
			if (stop_on_signal && tty_signo != 0)
				return IDW_ERR;
			continue;
		}
		if (n < 0)
			return IDW_EIO;
		if (n == 0)
			break;
		any = true;
		if (b->d[b->len] == '\n') {
			b->d[b->len] = 0;
			break;
		}
		b->len++;
		if (b->len > max)
			return IDW_ETOOBIG;
	}
	if (b->len > 0 && b->d[b->len - 1] == '\r')
		b->d[--b->len] = 0;
	return any ? 0 : IDW_ETRUNCATED;
}

int cli_read_line(int fd, struct idw_buf *b, size_t max)
{
	return read_line(fd, b, max, false);
}

bool cli_have_tty(void)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static void write_all(int fd, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;

	while (len > 0) {
		n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static const int tty_sigs[] = {SIGALRM, SIGHUP,	 SIGINT,  SIGPIPE, SIGQUIT,
			       SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU};
#define TTY_NSIGS (sizeof(tty_sigs) / sizeof(tty_sigs[0]))

/*
 * One attempt with echo off.  A signal restores the terminal first and is
 * then delivered as if it had arrived normally (after readpassphrase(3)).
 */
static int prompt_once(int fd, const char *prompt, struct idw_buf *b,
		       size_t max)
{
	struct sigaction sa, old[TTY_NSIGS];
	struct termios saved, quiet;
	bool term = false;
	int r;

	tty_signo = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tty_on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < TTY_NSIGS; i++)
		sigaction(tty_sigs[i], &sa, &old[i]);
	if (tcgetattr(fd, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		term = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	write_all(fd, prompt);
	r = read_line(fd, b, max, true);
	if (term)
		tcsetattr(fd, TCSAFLUSH, &saved);
	write_all(fd, "\n");
	for (size_t i = 0; i < TTY_NSIGS; i++)
		sigaction(tty_sigs[i], &old[i], NULL);
	if (tty_signo != 0) {
		idw_buf_reset(b);
		raise(tty_signo);
		r = IDW_ERR;
	}
	return r;
}

int cli_prompt_tty(const char *prompt, struct idw_buf *b, size_t max)
{
	int fd, r, signo;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return IDW_ENOENT;
	for (;;) {
		r = prompt_once(fd, prompt, b, max);
		signo = tty_signo;
		/* Stopped and continued: ask again. */
		if (r == IDW_ERR &&
		    (signo == SIGTSTP || signo == SIGTTIN || signo == SIGTTOU))
			continue;
		break;
	}
	close(fd);
	if (r == IDW_ETRUNCATED)
		r = 0; /* end of input: an empty answer */
	return r;
}

static int pass_err(char *why, size_t whylen, int r, const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	return r;
}

static int pass_from_tty(bool is_new, const char *prompt, struct idw_buf *b,
			 char *why, size_t whylen)
{
	struct idw_buf again;
	int r;

	r = cli_prompt_tty(prompt, b, CLI_PASS_MAX);
	if (r == IDW_ENOENT)
		return pass_err(why, whylen, IDW_EUNLOCK,
				"no terminal to ask for the passphrase: set "
				"IDW_PASSPHRASE or use --passphrase-stdin");
	if (r == IDW_ETOOBIG)
		return pass_err(why, whylen, IDW_ETOOBIG,
				"passphrase too long");
	if (r != 0)
		return pass_err(why, whylen, r, "no passphrase read");
	if (!is_new)
		return 0;
	idw_buf_init(&again, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	r = cli_prompt_tty("Same passphrase again: ", &again, CLI_PASS_MAX);
	if (r == 0 &&
	    (again.len != b->len || sodium_memcmp(again.d, b->d, b->len) != 0))
		r = pass_err(why, whylen, IDW_EINVAL,
			     "the passphrases do not match");
	else if (r != 0)
		r = pass_err(why, whylen, r, "no passphrase read");
	idw_buf_free(&again);
	return r;
}

int cli_passphrase(bool from_stdin, bool is_new, const char *prompt,
		   struct idw_buf *b, char *why, size_t whylen)
{
	const char *env = getenv("IDW_PASSPHRASE");
	int r;

	why[0] = '\0';
	if (env != NULL && env[0] != '\0') {
		if (strlen(env) > CLI_PASS_MAX)
			return pass_err(why, whylen, IDW_ETOOBIG,
					"IDW_PASSPHRASE is too long");
		r = idw_buf_put_str(b, env);
	} else if (from_stdin) {
		r = cli_read_line(STDIN_FILENO, b, CLI_PASS_MAX);
		if (r == IDW_ETRUNCATED)
			return pass_err(why, whylen, IDW_EINVAL,
					"no passphrase on stdin");
		if (r == IDW_ETOOBIG)
			return pass_err(why, whylen, r, "passphrase too long");
	} else {
		r = pass_from_tty(is_new, prompt, b, why, whylen);
	}
	if (r != 0) {
		if (why[0] == '\0')
			snprintf(why, whylen, "reading the passphrase: %s",
				 idw_strerror(r));
		return r;
	}
	if (b->len == 0)
		return pass_err(why, whylen, IDW_EINVAL, "empty passphrase");
	if (is_new && b->len < CLI_PASS_MIN)
		return pass_err(why, whylen, IDW_EINVAL,
				"the passphrase needs at least 8 bytes");
	if (is_new && !idw_utf8_valid(b->d, b->len))
		return pass_err(why, whylen, IDW_EINVAL,
				"the passphrase is not valid UTF-8");
	return 0;
}
