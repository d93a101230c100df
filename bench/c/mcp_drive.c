/* SPDX-License-Identifier: ISC */
/*
 * mcp_drive: a minimal MCP stdio client that times servers.
 *
 *   mcp_drive cold [--ready-line] -- CMD ARGS...
 *       spawn CMD, send initialize, time spawn -> answer; read VmRSS
 *       while the process is alive; close stdin and reap it.
 *       --ready-line: the program answers nothing to initialize but
 *       prints one line when ready (the RSS floor program).
 *   mcp_drive warm N CALL_PARAMS_JSON -- CMD ARGS... [--- CMD ARGS...]
 *       one session per server: initialize, first and second tools/list,
 *       first tools/call, then N pings and N tools/calls, each timed.
 *       With several servers the calls alternate between them, so a
 *       busy moment of the machine falls on all of them alike.
 *
 * Prints one JSON object on stdout (warm: {"servers":[...]}, in the order
 * given).  Times are in microseconds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define DRIVE_TIMEOUT_S 600 /* the whole run, whatever it is */
#define MAX_SERVERS 4

struct srv {
	pid_t pid;
	int to, from;
	char *buf;
	size_t cap, len;
	long id;
	double *ping, *call;
	long errors;
	double init_us, list1, list2, call1, c0, call_cpu;
	size_t list_bytes, call_bytes;
	long rss_init, rss_end, lck_end;
};

static struct srv S[MAX_SERVERS];
static int nsrv;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void fail(const char *what)
{
	printf("{\"error\":\"%s\"}\n", what);
	fflush(stdout);
	for (int i = 0; i < nsrv; i++)
		if (S[i].pid > 0) {
			kill(S[i].pid, SIGKILL);
			waitpid(S[i].pid, NULL, 0);
		}
	exit(1);
}

static void spawn(struct srv *s, char **argv)
{
	int in[2], out[2];
	posix_spawn_file_actions_t fa;

	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
		fail("pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	if (posix_spawnp(&s->pid, argv[0], &fa, NULL, argv, environ) != 0)
		fail("spawn");
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	s->to = in[1];
	s->from = out[0];
	s->len = 0;
}

static void send_line(struct srv *s, const char *p)
{
	size_t n = strlen(p), off = 0;

	while (off < n) {
		ssize_t w = write(s->to, p + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			fail("write to server");
		off += (size_t)w;
	}
}

/* Read until one whole line is buffered; return its length (no newline). */
static size_t read_line(struct srv *s, char **line)
{
	for (;;) {
		char *nl = s->len ? memchr(s->buf, '\n', s->len) : NULL;
		ssize_t r;

		if (nl != NULL) {
			*line = s->buf;
			return (size_t)(nl - s->buf);
		}
		if (s->cap - s->len < 65536) {
			s->cap = s->cap ? s->cap * 2 : 1 << 20;
			if ((s->buf = realloc(s->buf, s->cap)) == NULL)
				fail("out of memory");
		}
		r = read(s->from, s->buf + s->len, s->cap - s->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			fail("server closed its output");
		s->len += (size_t)r;
	}
}

static void drop_line(struct srv *s, size_t n)
{
	memmove(s->buf, s->buf + n + 1, s->len - n - 1);
	s->len -= n + 1;
}

/* Does the line carry "id":ID (ID followed by a non-digit)? */
static int line_has_id(const char *l, size_t n, long id)
{
	char want[32];
	const char *p = l, *end = l + n;
	size_t wl;

	snprintf(want, sizeof(want), "%ld", id);
	wl = strlen(want);
	while (p < end && (p = memmem(p, (size_t)(end - p), "\"id\":", 5))) {
		const char *q = p + 5;

		while (q < end && *q == ' ')
			q++;
		if ((size_t)(end - q) > wl && memcmp(q, want, wl) == 0 &&
		    (q[wl] < '0' || q[wl] > '9'))
			return 1;
		p += 5;
	}
	return 0;
}

/* Wait for the answer to request ID; others (notifications) are skipped. */
static void await(struct srv *s, long id, int *is_error, size_t *bytes)
{
	for (;;) {
		char *l;
		size_t n = read_line(s, &l);

		if (line_has_id(l, n, id)) {
			if (is_error)
				*is_error =
					memmem(l, n, "\"isError\":true", 14) !=
						NULL ||
					memmem(l, n, "\"error\":{", 9) != NULL;
			if (bytes)
				*bytes = n;
			drop_line(s, n);
			return;
		}
		drop_line(s, n);
	}
}

static long proc_kb(pid_t pid, const char *field)
{
	char path[64], buf[4096];
	size_t fl = strlen(field);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (char *l = buf; l != NULL && *l;) {
		char *nl = strchr(l, '\n');

		if (strncmp(l, field, fl) == 0)
			return strtol(l + fl, NULL, 10);
		l = nl ? nl + 1 : NULL;
	}
	return -1;
}

/* Time the process has spent on a CPU, in microseconds (schedstat). */
static double cpu_us(pid_t pid)
{
	char path[64], buf[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtod(buf, NULL) / 1e3;
}

/* Close stdin, give the server 2 s to leave, then end it. */
static void finish(struct srv *s)
{
	int st;

	close(s->to);
	for (int i = 0; i < 200; i++) {
		if (waitpid(s->pid, &st, WNOHANG) == s->pid)
			goto done;
		usleep(10000);
	}
	kill(s->pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(s->pid, &st, WNOHANG) == s->pid)
			goto done;
		usleep(10000);
	}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &st, 0);
done:
	close(s->from);
	s->pid = -1;
}

static const char *INIT =
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
	"\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
	"\"clientInfo\":{\"name\":\"idw-bench\",\"version\":\"1\"}}}\n";

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void stats(const char *name, double *v, size_t n, double per_s)
{
	double sum = 0;

	qsort(v, n, sizeof(*v), cmp_d);
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	printf(",\"%s\":{\"n\":%zu,\"median\":%.2f,\"p99\":%.2f,"
	       "\"min\":%.2f,\"max\":%.2f,\"mean\":%.2f,\"per_s\":%.1f}",
	       name, n, v[n / 2], v[(size_t)((double)(n - 1) * 0.99)], v[0],
	       v[n - 1], sum / (double)n, per_s);
}

static int cmd_cold(int ready_line, char **argv)
{
	struct srv *s = &S[nsrv++];
	double t0, t1;
	long rss, lck;

	t0 = now_us();
	spawn(s, argv);
	if (ready_line) {
		char *l;

		drop_line(s, read_line(s, &l));
	} else {
		send_line(s, INIT);
		await(s, 1, NULL, NULL);
	}
	t1 = now_us();
	rss = proc_kb(s->pid, "VmRSS:");
	lck = proc_kb(s->pid, "VmLck:");
	finish(s);
	printf("{\"start_us\":%.1f,\"rss_kb\":%ld,\"vmlck_kb\":%ld}\n", t1 - t0,
	       rss, lck);
	return 0;
}

/* One timed request; returns microseconds. */
static double timed(struct srv *s, char *req, const char *method,
		    const char *params, int *err, size_t *bytes)
{
	double t0;

	if (params)
		sprintf(req,
			"{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"%s\","
			"\"params\":%s}\n",
			++s->id, method, params);
	else
		sprintf(req,
			"{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"%s\"}\n",
			++s->id, method);
	t0 = now_us();
	send_line(s, req);
	await(s, s->id, err, bytes);
	return now_us() - t0;
}

static int cmd_warm(long n, const char *params, char **cmds[], int k)
{
	char *req = malloc(strlen(params) + 128);
	double tw;
	int err;

	if (req == NULL)
		fail("out of memory");
	nsrv = k;
	for (int j = 0; j < k; j++) {
		struct srv *s = &S[j];
		double t0;

		if ((s->ping = calloc((size_t)n, sizeof(double))) == NULL ||
		    (s->call = calloc((size_t)n, sizeof(double))) == NULL)
			fail("out of memory");
		t0 = now_us();
		spawn(s, cmds[j]);
		send_line(s, INIT);
		await(s, 1, NULL, NULL);
		s->id = 1;
		s->init_us = now_us() - t0;
		s->rss_init = proc_kb(s->pid, "VmRSS:");
		send_line(s, "{\"jsonrpc\":\"2.0\",\"method\":"
			     "\"notifications/initialized\"}\n");
		s->list1 =
			timed(s, req, "tools/list", NULL, NULL, &s->list_bytes);
		s->list2 = timed(s, req, "tools/list", NULL, NULL, NULL);
		s->call1 = timed(s, req, "tools/call", params, &err,
				 &s->call_bytes);
		s->errors += err;
	}
	tw = now_us();
	for (long i = 0; i < n; i++)
		for (int j = 0; j < k; j++)
			S[j].ping[i] =
				timed(&S[j], req, "ping", NULL, NULL, NULL);
	tw = now_us() - tw;
	for (int j = 0; j < k; j++)
		S[j].c0 = cpu_us(S[j].pid);
	for (long i = 0; i < n; i++)
		for (int j = 0; j < k; j++) {
			S[j].call[i] = timed(&S[j], req, "tools/call", params,
					     &err, NULL);
			S[j].errors += err;
		}
	printf("{\"servers\":[");
	for (int j = 0; j < k; j++) {
		struct srv *s = &S[j];
		double sum = 0;

		s->call_cpu = (cpu_us(s->pid) - s->c0) / (double)n;
		s->rss_end = proc_kb(s->pid, "VmRSS:");
		s->lck_end = proc_kb(s->pid, "VmLck:");
		printf("%s{\"init_us\":%.1f,\"rss_init_kb\":%ld,"
		       "\"list1_us\":%.1f,\"list2_us\":%.1f,\"list_bytes\":%zu,"
		       "\"call1_us\":%.1f,\"call_bytes\":%zu",
		       j ? "," : "", s->init_us, s->rss_init, s->list1,
		       s->list2, s->list_bytes, s->call1, s->call_bytes);
		for (long i = 0; i < n; i++)
			sum += s->ping[i];
		stats("ping", s->ping, (size_t)n, (double)n / (sum / 1e6));
		sum = 0;
		for (long i = 0; i < n; i++)
			sum += s->call[i];
		stats("call", s->call, (size_t)n, (double)n / (sum / 1e6));
		printf(",\"call_cpu_us\":%.2f,\"rss_end_kb\":%ld,"
		       "\"vmlck_end_kb\":%ld,\"call_errors\":%ld}",
		       s->call_cpu, s->rss_end, s->lck_end, s->errors);
	}
	printf("],\"alternated\":%s,\"ping_wall_us\":%.1f}\n",
	       k > 1 ? "true" : "false", tw);
	fflush(stdout);
	for (int j = 0; j < k; j++)
		finish(&S[j]);
	free(req);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: mcp_drive cold [--ready-line] -- CMD...\n"
		"       mcp_drive warm N PARAMS_JSON -- CMD... [--- CMD...]\n");
	exit(2);
}

static void on_alarm(int sig)
{
	(void)sig;
	fail("timed out");
}

int main(int argc, char **argv)
{
	char **cmds[MAX_SERVERS];
	int i, k = 0;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm(DRIVE_TIMEOUT_S);
	if (argc < 3)
		usage();
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		;
	if (i >= argc - 1)
		usage();
	if (strcmp(argv[1], "cold") == 0)
		return cmd_cold(i > 2 && strcmp(argv[2], "--ready-line") == 0,
				argv + i + 1);
	if (strcmp(argv[1], "warm") != 0 || i != 4 || atol(argv[2]) < 1)
		usage();
	/* Split the commands at "---". */
	cmds[k++] = argv + i + 1;
	for (int j = i + 1; j < argc; j++)
		if (strcmp(argv[j], "---") == 0) {
			argv[j] = NULL;
			if (k == MAX_SERVERS || j + 1 >= argc)
				usage();
			cmds[k++] = argv + j + 1;
		}
	return cmd_warm(atol(argv[2]), argv[3], cmds, k);
}
