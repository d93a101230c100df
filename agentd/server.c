/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agentd/dispatch.h"
#include "agentd/server.h"
#include "common/idwtime.h"
#include "common/wire.h"
#include "sandbox/arena.h"

#define IN_KEEP_MAX (64u * 1024u)

struct conn {
	int fd;
	struct idw_buf in;  /* locked: requests may carry secrets */
	struct idw_buf out; /* locked while it holds a secret reply */
	size_t out_off;
	struct idw_frame_hdr hdr;
	bool have_hdr;
	bool close_after;
	uint64_t opened_ms;
	uint64_t release_ms; /* the queued reply waits until then */
	struct peer peer;
};

static struct conn conns[SERVER_MAX_CLIENTS];
static size_t nconns;

int server_listen(struct agent *a, int *out, char *why, size_t whylen)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd, r;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(a->sock_path) >= sizeof(sa.sun_path)) {
		snprintf(why, whylen, "socket path %s is too long",
			 a->sock_path);
		return IDW_ETOOBIG;
	}
	strcpy(sa.sun_path, a->sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return IDW_EIO;
	}
	if (unlink(a->sock_path) != 0 && errno != ENOENT) {
		snprintf(why, whylen, "cannot remove stale %s: %s",
			 a->sock_path, strerror(errno));
		close(fd);
		return IDW_EIO;
	}
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r != 0 || listen(fd, 128) != 0) {
		snprintf(why, whylen, "cannot listen on %s: %s", a->sock_path,
			 strerror(errno));
		close(fd);
		return IDW_EIO;
	}
	*out = fd;
	return 0;
}

static void conn_close(struct agent *a, size_t i)
{
	struct conn *c = &conns[i];

	close(c->fd);
	idw_buf_free(&c->in);
	idw_buf_free(&c->out);
	if (i != nconns - 1)
		conns[i] = conns[nconns - 1];
	memset(&conns[nconns - 1], 0, sizeof(conns[0]));
	nconns--;
	a->nclients = (unsigned)nconns;
	if (nconns == 0)
		a->last_client_ms = idw_boot_ms();
}

static void conn_accept(struct agent *a, int lfd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct conn *c;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* Another uid is refused whatever the socket's mode says. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    cred.uid != geteuid() || nconns == SERVER_MAX_CLIENTS) {
		close(fd);
		return;
	}
	c = &conns[nconns++];
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	idw_buf_init(&c->in, IDW_WIRE_MAX_BODY, IDW_BUF_SECURE);
	idw_buf_init(&c->out, IDW_WIRE_HDR_LEN + IDW_WIRE_MAX_BODY, 0);
	c->opened_ms = idw_boot_ms();
	a->nclients = (unsigned)nconns;
}

/* Encode a reply; the out buffer is empty whenever this runs. */
static void conn_queue(struct conn *c, uint16_t type, uint32_t req_id,
		       struct reply *rep)
{
	char *txt = rep->json ? cJSON_PrintUnformatted(rep->json) : NULL;
	int flags = rep->has_secret ? IDW_BUF_SECURE : 0;

	if (c->out.flags != flags) {
		idw_buf_free(&c->out);
		idw_buf_init(&c->out, IDW_WIRE_HDR_LEN + IDW_WIRE_MAX_BODY,
			     flags);
	}
	c->out_off = 0;
	if (txt == NULL ||
	    idw_wire_encode(&c->out, type, req_id, txt, strlen(txt),
			    rep->secret, rep->secret_len,
			    rep->has_secret) != 0) {
		static const char oom[] = "{\"ok\":false,\"code\":\"nomem\","
					  "\"message\":\"reply too large or "
					  "out of memory\"}";

		idw_buf_reset(&c->out);
		if (idw_wire_encode(&c->out, IDW_FRAME_ERROR, req_id, oom,
				    sizeof(oom) - 1, NULL, 0, false) != 0)
			c->close_after = true;
	}
	if (txt != NULL)
		cJSON_free(txt);
	if (rep->close_after)
		c->close_after = true;
	idw_arena_free(rep->secret); /* wipes */
	cJSON_Delete(rep->json);
	memset(rep, 0, sizeof(*rep));
}

static void conn_protocol_error(struct conn *c, int err, const char *msg)
{
	struct reply rep;

	memset(&rep, 0, sizeof(rep));
	reply_error(&rep, err, "%s", msg);
	if (rep.json != NULL) {
		cJSON_AddStringToObject(rep.json, "agent_version", IDW_VERSION);
		cJSON_AddNumberToObject(rep.json, "wire_version",
					IDW_WIRE_VERSION);
	}
	rep.close_after = true;
	conn_queue(c, IDW_FRAME_ERROR, c->hdr.req_id, &rep);
}

static void conn_frame(struct agent *a, struct conn *c)
{
	struct idw_frame f;
	struct reply rep;

	memset(&rep, 0, sizeof(rep));
	f.hdr = c->hdr;
	if (idw_wire_body_split(c->in.d, c->in.len, &f) != 0) {
		conn_protocol_error(c, IDW_EINVAL, "malformed frame body");
		return;
	}
	switch (f.hdr.type) {
	case IDW_FRAME_HELLO:
		if (c->peer.hello_done) {
			conn_protocol_error(c, IDW_EINVAL, "second hello");
			return;
		}
		dispatch_hello(a, &c->peer, f.json, f.json_len,
			       f.has_secret ? f.secret : NULL, f.secret_len,
			       &rep);
		conn_queue(c, IDW_FRAME_HELLO, f.hdr.req_id, &rep);
		return;
	case IDW_FRAME_REQUEST:
		if (!c->peer.hello_done) {
			conn_protocol_error(c, IDW_EINVAL,
					    "a request before hello");
			return;
		}
		dispatch_request(a, &c->peer, f.json, f.json_len, f.secret,
				 f.secret_len, f.has_secret, &rep);
		c->release_ms = rep.release_ms;
		conn_queue(c, IDW_FRAME_REPLY, f.hdr.req_id, &rep);
		return;
	default:
		conn_protocol_error(c, IDW_EINVAL,
				    "clients send hello and request frames");
	}
}

/* Read what is due; false when the connection is to be closed. */
static bool conn_read(struct agent *a, struct conn *c)
{
	size_t want;
	ssize_t n;
	int r;

	if (!c->have_hdr)
		want = IDW_WIRE_HDR_LEN - c->in.len;
	else
		want = c->hdr.body_len - c->in.len;
	if (idw_buf_reserve(&c->in, want) != 0)
		return false;
	n = recv(c->fd, c->in.d + c->in.len, want, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false;
	c->in.len += (size_t)n;
	if ((size_t)n < want)
		return true;
	if (!c->have_hdr) {
		r = idw_wire_hdr_decode(c->in.d, &c->hdr);
		if (r != 0) {
			/* Refused before anything is allocated for it. */
			conn_protocol_error(
				c, IDW_EVERSION,
				r == IDW_ETOOBIG    ? "frame larger than 1 MiB"
				: r == IDW_EVERSION ? "unknown wire version"
						    : "unknown frame type");
			return true;
		}
		c->have_hdr = true;
		idw_buf_reset(&c->in);
		return true;
	}
	conn_frame(a, c);
	c->have_hdr = false;
	if (c->in.cap > IN_KEEP_MAX)
		idw_buf_free(&c->in);
	else
		idw_buf_reset(&c->in);
	return true;
}

static bool conn_write(struct conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.d + c->out_off,
				 c->out.len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0)
			return false;
		c->out_off += (size_t)n;
	}
	if (c->out.flags & IDW_BUF_SECURE)
		idw_buf_free(&c->out);
	else
		idw_buf_reset(&c->out);
	c->out_off = 0;
	return !c->close_after;
}

/*
 * A reply held back (the answer to a failed person proof) until its
 * release time; the loop serves everyone else meanwhile.
 */
static bool conn_held(const struct conn *c, uint64_t now)
{
	/* <=: the clock is read in whole ms, so never let it out a tick early
	 */
	return c->out.len > 0 && now <= c->release_ms;
}

static int poll_timeout(struct agent *a, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < nconns; i++) {
		if (conn_held(&conns[i], now) && conns[i].release_ms + 1 < next)
			next = conns[i].release_ms + 1;
		if (!conns[i].peer.hello_done) {
			uint64_t d =
				conns[i].opened_ms + SERVER_HELLO_TIMEOUT_MS;

			if (d < next)
				next = d;
		}
	}
	if (nconns == 0 && !a->locked && a->idle_timeout_s > 0) {
		uint64_t d =
			a->last_client_ms + (uint64_t)a->idle_timeout_s * 1000u;

		if (d < next)
			next = d;
	}
	/* Entries of passports below critical are synced in groups. */
	if (audit_sync_due(&a->audit) != 0 && audit_sync_due(&a->audit) < next)
		next = audit_sync_due(&a->audit);
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now > 60000 ? 60000 : next - now);
}

int server_run(struct agent *a, int lfd, int sigfd)
{
	struct pollfd pfd[SERVER_MAX_CLIENTS + 2];

	a->last_client_ms = idw_boot_ms();
	for (;;) {
		uint64_t now = idw_boot_ms();
		size_t n = 0;
		int pr;

		audit_tick(&a->audit, now);

		if (a->stopping) {
			bool pending = false;

			/*
			 * A held answer is dropped, not sent early: stopping
			 * the agent must not be a way round the delay.
			 */
			for (size_t i = nconns; i-- > 0;)
				if (conn_held(&conns[i], now))
					conn_close(a, i);
			for (size_t i = 0; i < nconns; i++)
				pending |= conns[i].out.len > 0;
			if (!pending)
				break;
		}
		/* Unlocked and alone for the idle timeout: wipe and go. */
		if (nconns == 0 && !a->locked && a->idle_timeout_s > 0 &&
		    now >= a->last_client_ms +
				    (uint64_t)a->idle_timeout_s * 1000u)
			break;
		for (size_t i = 0; i < nconns;) {
			if (!conns[i].peer.hello_done &&
			    now >= conns[i].opened_ms +
					    SERVER_HELLO_TIMEOUT_MS) {
				conn_close(a, i);
				continue;
			}
			/* A held reply whose time has come: send it. */
			if (conns[i].release_ms != 0 &&
			    !conn_held(&conns[i], now)) {
				conns[i].release_ms = 0;
				if (conns[i].out.len > 0 &&
				    !conn_write(&conns[i])) {
					conn_close(a, i);
					continue;
				}
			}
			i++;
		}
		pfd[n++] = (struct pollfd){lfd, POLLIN, 0};
		pfd[n++] = (struct pollfd){sigfd, POLLIN, 0};
		/* A held connection is watched for hang-ups only. */
		for (size_t i = 0; i < nconns; i++)
			pfd[n++] =
				(struct pollfd){conns[i].fd,
						conn_held(&conns[i], now) ? 0
						: conns[i].out.len > 0 ? POLLOUT
								       : POLLIN,
						0};
		pr = poll(pfd, n, poll_timeout(a, now));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return IDW_EIO;
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sigfd, &si, sizeof(si)) > 0)
				break;
		}
		/* Walk backwards: closing moves the last connection here. */
		for (size_t k = nconns; k-- > 0;) {
			short re = pfd[k + 2].revents;
			bool keep = true;

			if (re == 0)
				continue;
			if (conns[k].out.len > 0)
				keep = (re & POLLOUT)
					       ? conn_write(&conns[k])
					       : !(re & (POLLERR | POLLHUP));
			else
				keep = conn_read(a, &conns[k]);
			/* Answer at once; poll only when the socket is full. */
			if (keep && conns[k].out.len > 0 &&
			    !conn_held(&conns[k], idw_boot_ms()))
				keep = conn_write(&conns[k]);
			if (!keep)
				conn_close(a, k);
		}
		if (pfd[0].revents & POLLIN)
			conn_accept(a, lfd);
	}
	while (nconns > 0)
		conn_close(a, nconns - 1);
	return 0;
}
