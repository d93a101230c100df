/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "client/idwclient.h"
#include "common/agentenv.h"
#include "common/buf.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "common/paths.h"
#include "common/vhdr.h"
#include "common/wire.h"

#define IDWC_DEFAULT_START_MS 20000
#define IDWC_REPLY_TIMEOUT_MS 120000

struct idwc {
	int fd;
	uint32_t next_id;
	struct idwc_hello hello;
	struct idwc_wait wait;
};

int idwc_paths(char *home, size_t hlen, char *sock, size_t slen)
{
	char dir[IDW_PATH_MAX], why[512];
	int r;

	if ((r = idw_home_path(home, hlen)) != 0)
		return r;
	/* The socket name hashes realpath(home): it must exist first. */
	if ((r = idw_home_ensure(home, 1, why, sizeof(why))) != 0)
		return r;
	return idw_socket_path(home, sock, slen, dir, sizeof(dir));
}

static int sock_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return IDW_EAGENT;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Read n bytes within the wait's bound, polling the watched descriptor
 * too (see idwc_set_wait).
 */
static int read_all(struct idwc *c, uint8_t *p, size_t n, uint64_t deadline)
{
	while (n > 0) {
		struct pollfd pfd[2] = {{c->fd, POLLIN, 0},
					{c->wait.watch_fd, POLLIN, 0}};
		uint64_t now = idw_boot_ms(), end = deadline;
		nfds_t nfds = c->wait.watch_fd >= 0 ? 2 : 1;
		ssize_t r;
		int pr;

		if (c->wait.until_ms != 0 && c->wait.until_ms < end)
			end = c->wait.until_ms;
		if (now >= end)
			return IDW_EAGENT;
		pr = poll(pfd, nfds, (int)(end - now));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return IDW_EAGENT;
		if (pr == 0)
			continue; /* the bound is checked above */
		if (nfds == 2 && pfd[1].revents != 0 && pfd[0].revents == 0) {
			int w = c->wait.on_watch != NULL
					? c->wait.on_watch(c->wait.ctx)
					: 1;

			if (w < 0)
				return w;
			if (w == 1)
				c->wait.watch_fd = -1;
			continue;
		}
		r = read(c->fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return IDW_EAGENT;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Send one frame and read the answer into rep. */
static int roundtrip(struct idwc *c, uint16_t type, const char *json,
		     const uint8_t *secret, size_t secret_len, bool has_secret,
		     struct idwc_reply *rep)
{
	struct idw_buf out, in;
	struct idw_frame_hdr h;
	struct idw_frame f;
	uint8_t hdr[IDW_WIRE_HDR_LEN];
	uint32_t id = ++c->next_id;
	uint64_t deadline;
	int r;

	memset(rep, 0, sizeof(*rep));
	idw_buf_init(&out, IDW_WIRE_HDR_LEN + IDW_WIRE_MAX_BODY,
		     has_secret ? IDW_BUF_SECURE : 0);
	idw_buf_init(&in, IDW_WIRE_MAX_BODY, IDW_BUF_SECURE);
	if ((r = idw_wire_encode(&out, type, id, json, strlen(json), secret,
				 secret_len, has_secret)) != 0)
		goto out;
	if ((r = write_all(c->fd, out.d, out.len)) != 0)
		goto out;
	deadline = idw_boot_ms() + (uint64_t)(c->wait.reply_ms > 0
						      ? c->wait.reply_ms
						      : IDWC_REPLY_TIMEOUT_MS);
	/* Replies to calls that gave up waiting come first: skip them. */
	do {
		idw_buf_reset(&in);
		if ((r = read_all(c, hdr, sizeof(hdr), deadline)) != 0)
			goto out;
		if ((r = idw_wire_hdr_decode(hdr, &h)) != 0) {
			r = r == IDW_EVERSION ? IDW_EVERSION : IDW_EAGENT;
			goto out;
		}
		if ((r = idw_buf_reserve(&in, h.body_len)) != 0)
			goto out;
		if ((r = read_all(c, in.d, h.body_len, deadline)) != 0)
			goto out;
		in.len = h.body_len;
	} while (h.req_id < id && h.type == IDW_FRAME_REPLY);
	if ((r = idw_wire_body_split(in.d, in.len, &f)) != 0)
		goto out;
	if (h.req_id != id) {
		r = IDW_EAGENT;
		goto out;
	}
	rep->json = idw_json_parse(f.json, f.json_len);
	if (rep->json == NULL || !cJSON_IsObject(rep->json)) {
		r = IDW_EAGENT;
		goto out;
	}
	rep->ok = idw_json_bool(rep->json, "ok", false);
	if (!rep->ok) {
		rep->err = idw_err_from_name(idw_json_str(rep->json, "code"));
		rep->message = idw_json_str(rep->json, "message");
		if (rep->message == NULL)
			rep->message = idw_strerror(rep->err);
	}
	if (f.has_secret) {
		rep->secret =
			idw_buf_secure_alloc(f.secret_len, &rep->secret_cap);
		if (rep->secret == NULL) {
			r = IDW_ENOMEM;
			goto out;
		}
		memcpy(rep->secret, f.secret, f.secret_len);
		rep->secret_len = f.secret_len;
	}
	if (h.type == IDW_FRAME_ERROR && rep->ok)
		rep->ok = false;
	r = 0;
out:
	idw_buf_free(&out);
	idw_buf_free(&in);
	if (r != 0)
		idwc_reply_free(rep);
	return r;
}

static int find_agentd(char *path, size_t len)
{
	char self[PATH_MAX];
	const char *e, *pathenv;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			if (snprintf(path, len, "%s/idw-agentd", self) <
				    (int)len &&
			    access(path, X_OK) == 0)
				return 0;
		}
	}
	if ((e = getenv("IDW_AGENTD")) != NULL && e[0] == '/' &&
	    access(e, X_OK) == 0) {
		snprintf(path, len, "%s", e);
		return 0;
	}
	pathenv = getenv("PATH");
	while (pathenv != NULL && *pathenv) {
		const char *colon = strchr(pathenv, ':');
		size_t dl = colon ? (size_t)(colon - pathenv) : strlen(pathenv);

		if (dl > 0 &&
		    snprintf(path, len, "%.*s/idw-agentd", (int)dl, pathenv) <
			    (int)len &&
		    access(path, X_OK) == 0)
			return 0;
		pathenv = colon ? colon + 1 : NULL;
	}
	return IDW_ENOENT;
}

static void append_why(char *why, size_t whylen, const char *line)
{
	size_t n = strlen(why);

	if (n + 2 >= whylen)
		return;
	snprintf(why + n, whylen - n, "%s%s", n ? "\n" : "", line);
}

enum start_result { START_OK, START_RETRY, START_FAILED };

/*
 * Read the agent's status pipe until it closes or the bound passes: "ok",
 * "retry" (another agent is starting), "nosource", or "error CODE TEXT"
 * and "info TEXT" lines for the person.
 */
static enum start_result read_status(int fd, int timeout_ms, char *why,
				     size_t whylen, int *err, bool *no_source)
{
	char buf[4096];
	size_t len = 0;
	uint64_t deadline = idw_boot_ms() + (uint64_t)timeout_ms;
	enum start_result res = START_FAILED;
	bool saw_ok = false;

	*err = IDW_EUNLOCK;
	for (;;) {
		uint64_t now = idw_boot_ms();
		struct pollfd pfd = {fd, POLLIN, 0};
		ssize_t n;
		int pr;

		if (now >= deadline) {
			append_why(why, whylen,
				   "the agent did not report within its bound");
			*err = IDW_EAGENT;
			return START_FAILED;
		}
		pr = poll(&pfd, 1, (int)(deadline - now));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			continue;
		if (len == sizeof(buf))
			len = 0; /* an overlong line: drop it */
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		for (char *nl; (nl = memchr(buf, '\n', len)) != NULL;) {
			size_t ll = (size_t)(nl - buf);

			*nl = '\0';
			if (strcmp(buf, "ok") == 0) {
				saw_ok = true;
			} else if (strcmp(buf, "retry") == 0) {
				res = START_RETRY;
			} else if (strcmp(buf, "nosource") == 0) {
				*no_source = true;
			} else if (strncmp(buf, "error ", 6) == 0) {
				char *sp = strchr(buf + 6, ' ');

				if (sp != NULL) {
					*sp = '\0';
					*err = idw_err_from_name(buf + 6);
					append_why(why, whylen, sp + 1);
				}
			} else if (strncmp(buf, "info ", 5) == 0) {
				append_why(why, whylen, buf + 5);
			}
			memmove(buf, nl + 1, len - ll - 1);
			len -= ll + 1;
		}
	}
	if (saw_ok)
		return START_OK;
	if (res == START_RETRY)
		return START_RETRY;
	if (why[0] == '\0') {
		append_why(why, whylen,
			   "the agent exited without saying why (see its log)");
		*err = IDW_EAGENT;
	}
	return START_FAILED;
}

static char **agent_env(char *token_var)
{
	static char *env[32];
	size_t n = 0;

	if (token_var != NULL)
		env[n++] = token_var;
	for (size_t i = 0; idw_agent_env[i] != NULL && n < 31; i++) {
		const char *k = idw_agent_env[i];
		size_t kl = strlen(k);

		if (token_var != NULL && strcmp(k, "IDW_SESSION_TOKEN") == 0)
			continue;
		for (char **e = environ; *e != NULL; e++)
			if (strncmp(*e, k, kl) == 0 && (*e)[kl] == '=') {
				env[n++] = *e;
				break;
			}
	}
	env[n] = NULL;
	return env;
}

/*
 * Start idw-agentd: double fork so it is nobody's zombie, its own session,
 * stdio on /dev/null, fd 3 the status pipe, fd 4 the passphrase pipe when
 * the caller has one.  The agent keeps the client's working directory for
 * ./.env and then chdirs to "/" itself.
 */
static int start_agent(const struct idwc_opts *o, char *token_var, char *why,
		       size_t whylen, int *err, bool *no_source,
		       enum start_result *res)
{
	char agentd[PATH_MAX];
	int st[2] = {-1, -1}, pp[2] = {-1, -1};
	pid_t pid;
	int status;

	if (find_agentd(agentd, sizeof(agentd)) != 0) {
		append_why(why, whylen,
			   "idw-agentd was not found next to this program, in "
			   "IDW_AGENTD or in PATH");
		*err = IDW_EAGENT;
		return IDW_EAGENT;
	}
	if (pipe2(st, O_CLOEXEC) != 0)
		return IDW_EIO;
	if (o->passphrase != NULL) {
		if (o->passphrase_len > 65536 || pipe2(pp, O_CLOEXEC) != 0) {
			close(st[0]);
			close(st[1]);
			return IDW_EIO;
		}
		/* Fits the pipe buffer: written before the agent runs. */
		if (write(pp[1], o->passphrase, o->passphrase_len) !=
		    (ssize_t)o->passphrase_len) {
			close(pp[0]);
			close(pp[1]);
			close(st[0]);
			close(st[1]);
			return IDW_EIO;
		}
		close(pp[1]);
		pp[1] = -1;
	}
	pid = fork();
	if (pid < 0) {
		close(st[0]);
		close(st[1]);
		if (pp[0] >= 0)
			close(pp[0]);
		return IDW_EIO;
	}
	if (pid == 0) {
		char *argv[8];
		int a = 0, nul;

		if (setsid() < 0)
			_exit(127);
		if (fork() != 0)
			_exit(0);
		/* Close-on-exec: only its dup2 copies reach the agent. */
		nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 ||
		    dup2(nul, 2) < 0 || dup2(st[1], 3) < 0)
			_exit(127);
		if (pp[0] >= 0 && dup2(pp[0], 4) < 0)
			_exit(127);
		argv[a++] = "idw-agentd";
		argv[a++] = "--status-fd=3";
		if (pp[0] >= 0)
			argv[a++] = "--passphrase-fd=4";
		if (o->allow_no_vault)
			argv[a++] = "--allow-no-vault";
		argv[a] = NULL;
		execve(agentd, argv, agent_env(token_var));
		_exit(127);
	}
	close(st[1]);
	if (pp[0] >= 0)
		close(pp[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*res = read_status(st[0],
			   o->start_timeout_ms > 0 ? o->start_timeout_ms
						   : IDWC_DEFAULT_START_MS,
			   why, whylen, err, no_source);
	close(st[0]);
	return 0;
}

static int autostart(const struct idwc_opts *o, char *why, size_t whylen,
		     int *err, bool *no_source, enum start_result *res)
{
	char *token_var = NULL;
	int r;

	if (o->token != NULL) {
		/* A caller's token unlocks the agent it starts: by its env. */
		if (o->token_len > 512 ||
		    (token_var = sodium_malloc(o->token_len + 32)) == NULL)
			return IDW_ENOMEM;
		memcpy(token_var, "IDW_SESSION_TOKEN=", 18);
		memcpy(token_var + 18, o->token, o->token_len);
		token_var[18 + o->token_len] = '\0';
	}
	r = start_agent(o, token_var, why, whylen, err, no_source, res);
	if (token_var != NULL)
		sodium_free(token_var);
	return r;
}

static int check_peer(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return IDW_EIO;
	return cred.uid == geteuid() ? 0 : IDW_EPERM;
}

static int hello(struct idwc *c, const struct idwc_opts *o, const char *home,
		 char *why, size_t whylen)
{
	struct idwc_reply rep;
	cJSON *req;
	char *txt, vpath[IDW_PATH_MAX], hex[33];
	uint8_t id[IDW_VHDR_ID_LEN];
	const char *s;
	int r;

	req = cJSON_CreateObject();
	if (req == NULL)
		return IDW_ENOMEM;
	cJSON_AddStringToObject(req, "client",
				o->client_name ? o->client_name : "idw");
	cJSON_AddStringToObject(req, "version", IDW_VERSION);
	if (o->claimed_actor != NULL)
		cJSON_AddStringToObject(req, "claimed_actor", o->claimed_actor);
	txt = idw_json_print(req);
	cJSON_Delete(req);
	if (txt == NULL)
		return IDW_ENOMEM;
	/* A session token names this client: it travels as the secret. */
	r = roundtrip(c, IDW_FRAME_HELLO, txt, o->token, o->token_len,
		      o->token != NULL, &rep);
	cJSON_free(txt);
	if (r == IDW_EVERSION) {
		snprintf(why, whylen,
			 "the running agent speaks another wire version than "
			 "client v%s: run 'idw agent restart'",
			 IDW_VERSION);
		return r;
	}
	if (r != 0)
		return r;
	if (!rep.ok && rep.err == IDW_EVERSION) {
		/* An agent of another wire version refused our frame. */
		s = idw_json_str(rep.json, "agent_version");
		snprintf(why, whylen,
			 "agent v%s running, client v%s: run 'idw agent "
			 "restart'",
			 s ? s : "?", IDW_VERSION);
		r = IDW_EVERSION;
		goto out;
	}
	if (!rep.ok) {
		snprintf(why, whylen, "%s", rep.message);
		r = rep.err;
		goto out;
	}
	s = idw_json_str(rep.json, "vault_id");
	snprintf(c->hello.vault_id, sizeof(c->hello.vault_id), "%s",
		 s ? s : "");
	s = idw_json_str(rep.json, "agent_version");
	snprintf(c->hello.agent_version, sizeof(c->hello.agent_version), "%s",
		 s ? s : "");
	s = idw_json_str(rep.json, "principal");
	snprintf(c->hello.principal, sizeof(c->hello.principal), "%s",
		 s ? s : "local");
	c->hello.locked = idw_json_bool(rep.json, "locked", false);
	c->hello.initialized = idw_json_bool(rep.json, "initialized", false);
	c->hello.pid = (long)idw_json_int(rep.json, "pid", 0);
	if (idw_json_int(rep.json, "wire_version", 0) != IDW_WIRE_VERSION) {
		snprintf(why, whylen,
			 "agent v%s running, client v%s: run 'idw agent "
			 "restart'",
			 c->hello.agent_version, IDW_VERSION);
		r = IDW_EVERSION;
		goto out;
	}
	/* The vault on disk must be the one this agent serves. */
	if (idw_path_join(vpath, sizeof(vpath), home, "vault.idw") == 0 &&
	    idw_vhdr_peek_id(vpath, id) == 0) {
		sodium_bin2hex(hex, sizeof(hex), id, sizeof(id));
		if (strcmp(hex, c->hello.vault_id) != 0) {
			snprintf(why, whylen,
				 "the agent on this socket serves vault %s, "
				 "not %s of %s: refusing to talk to it",
				 c->hello.vault_id[0] ? c->hello.vault_id
						      : "(none)",
				 hex, home);
			r = IDW_EPERM;
			goto out;
		}
	}
	r = 0;
out:
	idwc_reply_free(&rep);
	return r;
}

int idwc_connect(const struct idwc_opts *o, struct idwc **out, char *why,
		 size_t whylen, bool *no_source)
{
	char home[IDW_PATH_MAX], sock[IDW_PATH_MAX], dir[IDW_PATH_MAX];
	char chk[512];
	struct idwc *c = NULL;
	uint64_t deadline;
	bool started = false, dummy = false;
	int fd = -1, r, err;

	*out = NULL;
	why[0] = '\0';
	if (no_source == NULL)
		no_source = &dummy;
	*no_source = false;
	if (sodium_init() < 0)
		return IDW_ERR;
	if ((r = idw_home_path(home, sizeof(home))) != 0) {
		snprintf(why, whylen, "no IDW_HOME and no HOME to put it in");
		return r;
	}
	/* Only a client that may start an agent creates the home. */
	r = idw_home_ensure(home, o->autostart, chk, sizeof(chk));
	if (r == IDW_ENOENT && !o->autostart) {
		snprintf(why, whylen, "no agent is running for %s", home);
		return IDW_ENOAGENT;
	}
	if (r != 0) {
		snprintf(why, whylen, "%s", chk);
		return r;
	}
	if ((r = idw_socket_path(home, sock, sizeof(sock), dir, sizeof(dir))) !=
	    0) {
		snprintf(why, whylen, "the socket path for %s is too long",
			 home);
		return r;
	}
	deadline = idw_boot_ms() + (uint64_t)(o->start_timeout_ms > 0
						      ? o->start_timeout_ms
						      : IDWC_DEFAULT_START_MS);
	for (;;) {
		enum start_result res = START_FAILED;

		r = idw_dir_check(dir, chk, sizeof(chk));
		if (r == IDW_EPERM) {
			snprintf(why, whylen, "%s", chk);
			return r;
		}
		if (r == 0 && (fd = sock_connect(sock)) >= 0)
			break;
		if (!o->autostart) {
			snprintf(why, whylen, "no agent is running for %s",
				 home);
			return IDW_ENOAGENT;
		}
		if (started && idw_boot_ms() >= deadline) {
			snprintf(why, whylen,
				 "the agent for %s did not come up in time",
				 home);
			return IDW_EAGENT;
		}
		if (started) {
			usleep(50000);
			continue;
		}
		if ((r = idw_socket_dir_ensure(dir, chk, sizeof(chk))) != 0) {
			snprintf(why, whylen, "%s", chk);
			return r;
		}
		if ((r = autostart(o, why, whylen, &err, no_source, &res)) != 0)
			return r;
		if (res == START_FAILED)
			return err;
		started = res == START_OK;
		if (res == START_RETRY) {
			started = true; /* another agent is starting */
			why[0] = '\0';
		}
	}
	if ((r = check_peer(fd)) != 0) {
		snprintf(why, whylen,
			 "the process behind %s is not ours: refusing it",
			 sock);
		close(fd);
		return r;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return IDW_ENOMEM;
	}
	c->fd = fd;
	c->wait.reply_ms = o->reply_timeout_ms;
	c->wait.watch_fd = -1;
	if ((r = hello(c, o, home, why, whylen)) != 0) {
		if (r == IDW_EAGENT && why[0] == '\0')
			snprintf(
				why, whylen,
				"the agent closed the connection during hello");
		idwc_close(c);
		return r;
	}
	*out = c;
	return 0;
}

const struct idwc_hello *idwc_hello_info(const struct idwc *c)
{
	return &c->hello;
}

int idwc_call(struct idwc *c, const cJSON *req, const uint8_t *secret,
	      size_t secret_len, bool has_secret, struct idwc_reply *rep)
{
	char *txt;
	int r;

	memset(rep, 0, sizeof(*rep));
	txt = idw_json_print(req);
	if (txt == NULL)
		return IDW_ENOMEM;
	r = roundtrip(c, IDW_FRAME_REQUEST, txt, secret, secret_len, has_secret,
		      rep);
	cJSON_free(txt);
	return r;
}

void idwc_set_wait(struct idwc *c, const struct idwc_wait *w)
{
	c->wait = *w;
}

void idwc_reply_free(struct idwc_reply *rep)
{
	if (rep->json != NULL)
		cJSON_Delete(rep->json);
	idw_buf_secure_free(rep->secret, rep->secret_cap); /* wipes */
	memset(rep, 0, sizeof(*rep));
}

void idwc_close(struct idwc *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}
