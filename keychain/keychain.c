/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "common/idwtime.h"
#include "keychain/keychain.h"

#define KC_LINE_MAX 512

int kc_timeout_ms(void)
{
	const char *e = getenv("IDW_KEYCHAIN_TIMEOUT");
	int64_t s;
	char *end = NULL;
	long ms;

	if (e == NULL || e[0] == '\0')
		return KC_DEFAULT_TIMEOUT_MS;
	if (idw_duration_parse(e, &s) == 0)
		return s > 600 ? 600000 : (int)(s * 1000);
	ms = strtol(e, &end, 10);
	if (end != e && *end == '\0' && ms > 0 && ms <= 600000)
		return (int)ms;
	return KC_DEFAULT_TIMEOUT_MS;
}

int kc_bus_present(void)
{
	const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char path[PATH_MAX];
	struct stat st;

	if (addr != NULL && addr[0] != '\0')
		return 1;
	if (rt == NULL || rt[0] != '/')
		return 0;
	snprintf(path, sizeof(path), "%s/bus", rt);
	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int find_helper(char *path, size_t len)
{
	const char *e = getenv("IDW_KEYCHAIN_HELPER");
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	/* The helper sits next to the program using it (one bin/ dir). */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if (snprintf(path, len, "%s/idw-keychain-helper",
				     self) < (int)len &&
			    access(path, X_OK) == 0)
				return 0;
		}
	}
	if (e != NULL && e[0] == '/' && access(e, X_OK) == 0) {
		snprintf(path, len, "%s", e);
		return 0;
	}
	return IDW_ENOENT;
}

/*
 * Run the helper: stdin gets `input` (may be NULL), the first line of its
 * stdout comes back in line (locked memory of KC_LINE_MAX bytes).
 */
static int run_helper(const char *op, const char *vault_hex, const char *input,
		      size_t inlen, char *line, char *why, size_t whylen)
{
	char helper[PATH_MAX], busenv[1024], rtenv[PATH_MAX + 32];
	char *envp[3], *argv[4];
	int in[2] = {-1, -1}, out[2] = {-1, -1}, status, ne = 0;
	int timeout = kc_timeout_ms();
	uint64_t deadline = idw_boot_ms() + (uint64_t)timeout;
	size_t got = 0;
	pid_t pid;
	const char *e;

	if (find_helper(helper, sizeof(helper)) != 0) {
		snprintf(why, whylen,
			 "keychain: idw-keychain-helper is not installed next "
			 "to this program");
		return IDW_ENOENT;
	}
	/* Only the session-bus variables cross into the helper. */
	if ((e = getenv("DBUS_SESSION_BUS_ADDRESS")) != NULL &&
	    snprintf(busenv, sizeof(busenv), "DBUS_SESSION_BUS_ADDRESS=%s", e) <
		    (int)sizeof(busenv))
		envp[ne++] = busenv;
	if ((e = getenv("XDG_RUNTIME_DIR")) != NULL &&
	    snprintf(rtenv, sizeof(rtenv), "XDG_RUNTIME_DIR=%s", e) <
		    (int)sizeof(rtenv))
		envp[ne++] = rtenv;
	envp[ne] = NULL;
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
		snprintf(why, whylen, "keychain: pipe: %s", strerror(errno));
		goto fail_pipes;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "keychain: fork: %s", strerror(errno));
		goto fail_pipes;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_WRONLY);

		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 ||
		    (nul >= 0 && dup2(nul, 2) < 0))
			_exit(127);
		argv[0] = "idw-keychain-helper";
		argv[1] = (char *)op;
		argv[2] = (char *)vault_hex;
		argv[3] = NULL;
		execve(helper, argv, envp);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	if (input != NULL) {
		/* A short write shows as a malformed key in the answer. */
		ssize_t w = write(in[1], input, inlen);

		(void)w;
	}
	close(in[1]);
	in[1] = -1;
	while (got < KC_LINE_MAX - 1 && memchr(line, '\n', got) == NULL) {
		uint64_t now = idw_boot_ms();
		struct pollfd p = {out[0], POLLIN, 0};
		ssize_t n;
		int pr;

		if (now >= deadline)
			break;
		pr = poll(&p, 1, (int)(deadline - now));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			break;
		n = read(out[0], line + got, KC_LINE_MAX - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(out[0]);
	line[got] = '\0';
	if (memchr(line, '\n', got) == NULL) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		sodium_memzero(line, KC_LINE_MAX);
		snprintf(why, whylen,
			 "keychain: no answer within %d ms "
			 "(IDW_KEYCHAIN_TIMEOUT); is the keyring locked or "
			 "waiting for a prompt?",
			 timeout);
		return IDW_EUNLOCK;
	}
	*strchr(line, '\n') = '\0';
	waitpid(pid, &status, 0);
	return 0;
fail_pipes:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return IDW_EIO;
}

static int answer(const char *line, char *why, size_t whylen)
{
	if (strcmp(line, "none") == 0) {
		snprintf(why, whylen,
			 "keychain: no item for this vault "
			 "(run 'idw auth login')");
		return IDW_ENOENT;
	}
	if (strncmp(line, "error ", 6) == 0) {
		snprintf(why, whylen, "keychain: %.400s", line + 6);
		return IDW_EUNLOCK;
	}
	snprintf(why, whylen,
		 "keychain: the helper's answer was not "
		 "understood");
	return IDW_EUNLOCK;
}

int kc_lookup(const char *vault_hex, uint8_t key[KC_KEY_LEN], char *why,
	      size_t whylen)
{
	char *line;
	size_t bin = 0;
	int r;

	if (!kc_bus_present()) {
		snprintf(why, whylen,
			 "keychain: no session bus "
			 "(DBUS_SESSION_BUS_ADDRESS is unset)");
		return IDW_ENOENT;
	}
	if ((line = sodium_malloc(KC_LINE_MAX)) == NULL)
		return IDW_ENOMEM;
	r = run_helper("lookup", vault_hex, NULL, 0, line, why, whylen);
	if (r == 0 && strncmp(line, "ok ", 3) == 0) {
		if (sodium_hex2bin(key, KC_KEY_LEN, line + 3, strlen(line + 3),
				   NULL, &bin, NULL) != 0 ||
		    bin != KC_KEY_LEN) {
			snprintf(why, whylen, "keychain: malformed key");
			r = IDW_EUNLOCK;
		}
	} else if (r == 0) {
		r = answer(line, why, whylen);
	}
	sodium_free(line);
	return r;
}

int kc_store(const char *vault_hex, const uint8_t key[KC_KEY_LEN], char *why,
	     size_t whylen)
{
	char *line, *hex;
	int r;

	if (!kc_bus_present()) {
		snprintf(why, whylen,
			 "keychain: no session bus "
			 "(DBUS_SESSION_BUS_ADDRESS is unset)");
		return IDW_ENOENT;
	}
	line = sodium_malloc(KC_LINE_MAX);
	hex = sodium_malloc(2 * KC_KEY_LEN + 2);
	if (line == NULL || hex == NULL) {
		if (line)
			sodium_free(line);
		if (hex)
			sodium_free(hex);
		return IDW_ENOMEM;
	}
	sodium_bin2hex(hex, 2 * KC_KEY_LEN + 1, key, KC_KEY_LEN);
	hex[2 * KC_KEY_LEN] = '\n';
	r = run_helper("store", vault_hex, hex, 2 * KC_KEY_LEN + 1, line, why,
		       whylen);
	if (r == 0 && strcmp(line, "ok") != 0)
		r = answer(line, why, whylen);
	sodium_free(hex);
	sodium_free(line);
	return r;
}

int kc_delete(const char *vault_hex, char *why, size_t whylen)
{
	char *line;
	int r;

	if (!kc_bus_present()) {
		snprintf(why, whylen,
			 "keychain: no session bus "
			 "(DBUS_SESSION_BUS_ADDRESS is unset)");
		return IDW_ENOENT;
	}
	if ((line = sodium_malloc(KC_LINE_MAX)) == NULL)
		return IDW_ENOMEM;
	r = run_helper("delete", vault_hex, NULL, 0, line, why, whylen);
	if (r == 0 && strcmp(line, "ok") != 0)
		r = answer(line, why, whylen);
	sodium_free(line);
	return r;
}
