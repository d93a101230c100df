/* SPDX-License-Identifier: ISC */
/*
 * wire_client: speaks idw's wire protocol (docs/protocol.md) over a Unix
 * socket and times it.  The same code drives the agent and the echo
 * floor, so their figures compare.
 *
 *   wire_client rt SOCK[,FLOOR] N REQUEST_JSON [SECRET]
 *                                                 N round trips, one conn;
 *                                                 with FLOOR (an echo
 *                                                 server) calls alternate
 *   wire_client load SOCK CLIENTS CALLS ID[,ID..]  mixed calls, threads
 *   wire_client create SOCK FROM TO               passports FROM..TO-1
 *   wire_client list SOCK REPS REQUEST_JSON       page through, REPS times
 *                                                 (a cursor is added)
 *
 * Prints one JSON object.  Times in microseconds.  With IDW_BENCH_ECHO=1
 * in the environment replies are not checked for "ok" (the echo floor
 * sends the request back).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define HELLO 1
#define REQUEST 2
#define MAX_FRAME ((1u << 20) + 12)

struct conn {
	int fd;
	int echo; /* the echo floor: replies are the requests sent back */
	uint32_t rid;
	uint8_t *buf; /* the reply: header + body */
	size_t len, cap;
	uint8_t out[65536 + 4096];
};

static int echo_mode;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(c, 0, sizeof(*c));
	c->cap = 1 << 16;
	if ((c->buf = malloc(c->cap)) == NULL)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	c->fd = -1;
	c->buf = NULL;
}

/* Send one frame and read one reply into c->buf; 0 or -1. */
static int conn_call(struct conn *c, int type, const char *json,
		     const char *secret)
{
	size_t jl = strlen(json), sl = secret ? strlen(secret) : 0;
	size_t body = jl + 1 + (secret ? 4 + sl : 0), n = 12 + body, off = 0;
	uint32_t blen;

	if (n > sizeof(c->out))
		return -1;
	put32(c->out, (uint32_t)body);
	c->out[4] = (uint8_t)type;
	c->out[5] = 0;
	c->out[6] = 1;
	c->out[7] = 0;
	put32(c->out + 8, ++c->rid);
	memcpy(c->out + 12, json, jl);
	c->out[12 + jl] = 0;
	if (secret) {
		put32(c->out + 13 + jl, (uint32_t)sl);
		memcpy(c->out + 17 + jl, secret, sl);
	}
	while (off < n) {
		ssize_t w = send(c->fd, c->out + off, n - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	c->len = 0;
	for (;;) {
		ssize_t r;

		if (c->len >= 12) {
			blen = get32(c->buf);
			if (blen + 12u > MAX_FRAME)
				return -1;
			if (c->len >= 12 + (size_t)blen)
				return 0;
			if (c->cap < 12 + (size_t)blen) {
				uint8_t *nb = realloc(c->buf, 12 + blen);

				if (nb == NULL)
					return -1;
				c->buf = nb;
				c->cap = 12 + blen;
			}
		}
		r = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c->len += (size_t)r;
	}
}

/* The reply's JSON text (it ends at the 0x00). */
static const char *reply_json(struct conn *c)
{
	return (const char *)c->buf + 12;
}

static int reply_ok(struct conn *c)
{
	const char *j = reply_json(c);
	size_t n = strnlen(j, c->len - 12);

	if (echo_mode || c->echo)
		return 1;
	return memmem(j, n, "\"ok\":true", 9) != NULL;
}

static int hello(struct conn *c)
{
	if (conn_call(c, HELLO, "{\"client\":\"idw-bench\",\"version\":\"0\"}",
		      NULL) != 0)
		return -1;
	return reply_ok(c) ? 0 : -1;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void print_stats(const char *name, double *v, size_t n)
{
	double sum = 0;

	if (n == 0) {
		printf("\"%s\":null", name);
		return;
	}
	qsort(v, n, sizeof(*v), cmp_d);
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	printf("\"%s\":{\"n\":%zu,\"median\":%.2f,\"p99\":%.2f,\"min\":%.2f,"
	       "\"max\":%.2f,\"mean\":%.2f}",
	       name, n, v[n / 2], v[(size_t)((double)(n - 1) * 0.99)], v[0],
	       v[n - 1], sum / (double)n);
}

static int die(const char *why)
{
	printf("{\"error\":\"%s\"}\n", why);
	return 1;
}

static int cmd_rt(char *socks, long n, const char *req, const char *sec)
{
	char *floor_sock = strchr(socks, ',');
	struct conn c, f;
	double *lat = calloc((size_t)n, sizeof(double)), t0, busy = 0;
	double *flat = calloc((size_t)n, sizeof(double));
	long errors = 0;

	if (floor_sock != NULL)
		*floor_sock++ = '\0';
	if (lat == NULL || flat == NULL || conn_open(&c, socks) != 0 ||
	    hello(&c) != 0)
		return die("cannot connect and say hello");
	if (floor_sock != NULL) {
		if (conn_open(&f, floor_sock) != 0)
			return die("cannot connect to the floor");
		f.echo = 1;
		if (hello(&f) != 0)
			return die("the floor did not answer");
	}
	/* A few untimed calls first: caches, branch predictors, pages. */
	for (int i = 0; i < 20; i++)
		if (conn_call(&c, REQUEST, req, sec) != 0 ||
		    (floor_sock && conn_call(&f, REQUEST, req, sec) != 0))
			return die("connection lost");
	for (long i = 0; i < n; i++) {
		t0 = now_us();
		if (conn_call(&c, REQUEST, req, sec) != 0)
			return die("connection lost");
		lat[i] = now_us() - t0;
		busy += lat[i];
		if (!reply_ok(&c))
			errors++;
		if (floor_sock != NULL) {
			t0 = now_us();
			if (conn_call(&f, REQUEST, req, sec) != 0)
				return die("floor connection lost");
			flat[i] = now_us() - t0;
		}
	}
	printf("{\"errors\":%ld,\"reply_bytes\":%zu,\"per_s\":%.1f,", errors,
	       c.len, (double)n / (busy / 1e6));
	print_stats("rt", lat, (size_t)n);
	if (floor_sock != NULL) {
		printf(",\"floor\":{\"reply_bytes\":%zu,", f.len);
		print_stats("rt", flat, (size_t)n);
		printf("}");
		conn_close(&f);
	}
	printf("}\n");
	conn_close(&c);
	free(lat);
	free(flat);
	return 0;
}

/* Mixed load: per ten calls 4 get, 3 show, 2 check_policy, 1 list. */
struct worker {
	pthread_t th;
	const char *sock;
	char **ids;
	int nids, index;
	long calls, errors, gets_ok, done;
	double *lat;
	pthread_barrier_t *bar;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct conn c;
	char req[512];
	int ok = conn_open(&c, w->sock) == 0 && hello(&c) == 0;

	pthread_barrier_wait(w->bar);
	if (!ok) {
		w->errors = w->calls;
		return NULL;
	}
	for (long i = 0; i < w->calls; i++) {
		const char *id = w->ids[(i + w->index) % w->nids];
		int k = (int)(i % 10), is_get = 0;
		double t0;

		if (k < 4) {
			snprintf(req, sizeof(req),
				 "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":"
				 "\"bench load %d\"}",
				 id, w->index);
			is_get = 1;
		} else if (k < 7) {
			snprintf(req, sizeof(req),
				 "{\"verb\":\"show\",\"id\":\"%s\"}", id);
		} else if (k < 9) {
			snprintf(req, sizeof(req),
				 "{\"verb\":\"check_policy\",\"id\":\"%s\"}",
				 id);
		} else {
			snprintf(req, sizeof(req),
				 "{\"verb\":\"list\",\"limit\":10}");
		}
		t0 = now_us();
		if (conn_call(&c, REQUEST, req, NULL) != 0) {
			w->errors += w->calls - i;
			break;
		}
		w->lat[w->done++] = now_us() - t0;
		if (!reply_ok(&c))
			w->errors++;
		else if (is_get)
			w->gets_ok++;
	}
	conn_close(&c);
	return NULL;
}

static int cmd_load(const char *sock, int nclients, long calls, char *idlist)
{
	struct worker *ws = calloc((size_t)nclients, sizeof(*ws));
	char *ids[256];
	int nids = 0;
	pthread_barrier_t bar;
	double t0, wall, *all;
	long errors = 0, gets = 0, total = 0;
	size_t k = 0;

	for (char *s = strtok(idlist, ","); s && nids < 256;
	     s = strtok(NULL, ","))
		ids[nids++] = s;
	if (ws == NULL || nids == 0)
		return die("bad arguments");
	pthread_barrier_init(&bar, NULL, (unsigned)nclients + 1);
	for (int i = 0; i < nclients; i++) {
		ws[i] = (struct worker){.sock = sock,
					.ids = ids,
					.nids = nids,
					.index = i,
					.calls = calls,
					.bar = &bar};
		if ((ws[i].lat = calloc((size_t)calls, sizeof(double))) ==
			    NULL ||
		    pthread_create(&ws[i].th, NULL, work, &ws[i]) != 0)
			return die("cannot start threads");
	}
	pthread_barrier_wait(&bar);
	t0 = now_us();
	for (int i = 0; i < nclients; i++)
		pthread_join(ws[i].th, NULL);
	wall = now_us() - t0;
	all = calloc((size_t)nclients * (size_t)calls, sizeof(double));
	if (all == NULL)
		return die("out of memory");
	for (int i = 0; i < nclients; i++) {
		memcpy(all + k, ws[i].lat, (size_t)ws[i].done * sizeof(double));
		k += (size_t)ws[i].done;
		errors += ws[i].errors;
		gets += ws[i].gets_ok;
		total += ws[i].calls;
	}
	printf("{\"clients\":%d,\"calls\":%ld,\"completed\":%zu,\"errors\":%ld,"
	       "\"gets_ok\":%ld,\"wall_s\":%.3f,\"per_s\":%.1f,",
	       nclients, total, k, errors, gets, wall / 1e6,
	       (double)k / (wall / 1e6));
	print_stats("lat", all, k);
	printf("}\n");
	return 0;
}

/*
 * Bulk create over one connection.  Passport i is on platform
 * "plat<i % 100>"; the first ten also on "needle", so a filter for it
 * matches ten passports at every size.
 */
static int cmd_create(const char *sock, long from, long to)
{
	struct conn c;
	char req[512], val[64];
	double t0 = now_us(), *lat;
	long n = to - from, errors = 0;

	if (n <= 0 || (lat = calloc((size_t)n, sizeof(double))) == NULL)
		return die("bad range");
	if (conn_open(&c, sock) != 0 || hello(&c) != 0)
		return die("cannot connect and say hello");
	for (long i = from; i < to; i++) {
		double t1 = now_us();

		snprintf(req, sizeof(req),
			 "{\"verb\":\"create\",\"name\":\"bench-%ld\","
			 "\"credential_type\":\"api-key\",\"path\":"
			 "\"bench/p%ld\",\"human_owner\":\"bench\","
			 "\"platforms\":[\"plat%ld\"%s],\"tags\":"
			 "[\"bench\"]}",
			 i, i % 1000, i % 100, i < 10 ? ",\"needle\"" : "");
		snprintf(val, sizeof(val), "sk-bench-%016lx",
			 (unsigned long)i * 2654435761UL);
		if (conn_call(&c, REQUEST, req, val) != 0)
			return die("connection lost");
		lat[i - from] = now_us() - t1;
		if (!reply_ok(&c)) {
			if (errors++ == 0)
				fprintf(stderr, "create refused: %.300s\n",
					reply_json(&c));
		}
	}
	printf("{\"created\":%ld,\"errors\":%ld,\"wall_s\":%.3f,\"per_s\":%."
	       "1f,",
	       n - errors, errors, (now_us() - t0) / 1e6,
	       (double)n / ((now_us() - t0) / 1e6));
	/* The last tenth: what one create costs at the size reached. */
	print_stats("tail", lat + n - (n / 10 ? n / 10 : 1),
		    (size_t)(n / 10 ? n / 10 : 1));
	printf("}\n");
	conn_close(&c);
	return 0;
}

/* Page through a list REPS times; the time of each whole walk. */
static int cmd_list(const char *sock, long reps, const char *base)
{
	struct conn c;
	double *lat = calloc((size_t)reps, sizeof(double));
	char req[1024], cursor[32];
	long items = 0, pages = 0;

	if (lat == NULL || conn_open(&c, sock) != 0 || hello(&c) != 0)
		return die("cannot connect and say hello");
	for (long r = 0; r < reps; r++) {
		double t0 = now_us();

		items = pages = 0;
		cursor[0] = 0;
		for (;;) {
			const char *j, *p, *nc;
			size_t n;
			const char *close = strrchr(base, '}');
			int bl = close ? (int)(close - base) : 0;

			if (cursor[0])
				snprintf(req, sizeof(req),
					 "%.*s,\"cursor\":\"%s\"}", bl, base,
					 cursor);
			else
				snprintf(req, sizeof(req), "%s", base);
			if (conn_call(&c, REQUEST, req, NULL) != 0)
				return die("connection lost");
			if (!reply_ok(&c))
				return die("list refused");
			pages++;
			j = reply_json(&c);
			n = strnlen(j, c.len - 12);
			for (p = j; (p = memmem(p, n - (size_t)(p - j),
						"\"id\":\"pp_", 9));
			     p += 9)
				items++;
			nc = memmem(j, n, "\"next_cursor\":\"", 15);
			if (nc == NULL)
				break;
			nc += 15;
			size_t k = 0;

			while (k < sizeof(cursor) - 1 && nc[k] != '"')
				cursor[k] = nc[k], k++;
			cursor[k] = 0;
		}
		lat[r] = now_us() - t0;
	}
	printf("{\"items\":%ld,\"pages\":%ld,", items, pages);
	print_stats("walk", lat, (size_t)reps);
	printf("}\n");
	conn_close(&c);
	return 0;
}

int main(int argc, char **argv)
{
	echo_mode = getenv("IDW_BENCH_ECHO") != NULL;
	if (argc >= 5 && strcmp(argv[1], "rt") == 0)
		return cmd_rt(argv[2], atol(argv[3]), argv[4],
			      argc > 5 ? argv[5] : NULL);
	if (argc == 6 && strcmp(argv[1], "load") == 0)
		return cmd_load(argv[2], atoi(argv[3]), atol(argv[4]), argv[5]);
	if (argc == 5 && strcmp(argv[1], "create") == 0)
		return cmd_create(argv[2], atol(argv[3]), atol(argv[4]));
	if (argc == 5 && strcmp(argv[1], "list") == 0)
		return cmd_list(argv[2], atol(argv[3]), argv[4]);
	fprintf(stderr, "usage: wire_client rt|load|create|list ...\n");
	return 2;
}
