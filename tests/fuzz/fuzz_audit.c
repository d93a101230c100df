/* SPDX-License-Identifier: ISC */
/*
 * The audit log's readers on a file of arbitrary bytes, as the agent runs
 * them on its open audit.idw: the walk at unlock (with and without the
 * vault's checkpoint mark), idw audit verify, the queries, and an append
 * after the walk.  The first input byte picks how the file is made: the
 * rest of the input as the file's entries (after a valid header), or a
 * valid log of a few entries written with the same key, then damaged at
 * the offsets and with the bytes the input gives, so mutations reach the
 * chain, the anchors and the torn-tail cut as a tamperer's would.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentd/audit.h"
#include "agentd/audit_query.h"
#include "agentd/audit_verify.h"
#include "common/buf.h"
#include "sandbox/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[AUDIT_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};

/* Refusals are the input's doing: only crashes and leaks count. */
static void ignore(int r)
{
	(void)r;
}

static char path[64];

static void remove_log(void)
{
	unlink(path);
}

/* A real file: the writer refuses one without a link (a memfd). */
static int fresh_log(struct audit *a)
{
	uint8_t hdr[16] = {'I', 'D', 'W', 'A', 1, 0};
	int fd;

	if (path[0] == '\0') {
		snprintf(path, sizeof(path), "/tmp/fuzz-audit-%d.idw",
			 (int)getpid());
		atexit(remove_log);
	}
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || pwrite(fd, hdr, sizeof(hdr), 0) != sizeof(hdr))
		abort();
	audit_init(a);
	a->fd = fd;
	a->end = sizeof(hdr);
	return fd;
}

/* A valid log of a few entries, then bytes flipped where the input says. */
static void damaged_log(struct audit *a, const uint8_t *data, size_t size,
			struct audit_mark *m)
{
	char why[200], purpose[8] = "p";
	struct audit_event ev = {.principal = "local",
				 .action = "access",
				 .passport_id = "pp_aaaaaaaaaaaaaaaa",
				 .result = "denied",
				 .purpose = purpose};
	size_t n = size ? 1 + data[0] % 6 : 3;

	if (audit_unlock(a, key, why, sizeof(why)) != 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		purpose[1] = (char)('0' + i);
		if (i == 2) {
			audit_head_mark(a, m);
			m->n = 1;
			if (audit_append_anchor(a, 1, "checkpoint", NULL, "ok",
						"v", NULL) != 0)
				abort();
		}
		if (audit_append(a, &ev) != 0)
			abort();
	}
	audit_lock(a);
	/* Each 3 bytes: an offset into the file and a byte to XOR there,
	 * or (byte 0) a cut there. */
	for (size_t i = 1; i + 3 <= size; i += 3) {
		uint64_t off =
			(data[i] | (uint64_t)data[i + 1] << 8) % (a->end + 1);
		uint8_t b;

		if (data[i + 2] == 0) {
			if (ftruncate(a->fd, (off_t)off) != 0)
				abort();
		} else if (pread(a->fd, &b, 1, (off_t)off) == 1) {
			b ^= data[i + 2];
			if (pwrite(a->fd, &b, 1, (off_t)off) != 1)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct audit_filter f = {.limit = 5};
	char why[300], next[AUDIT_CURSOR_LEN];
	struct audit_mark m = {0}, *mp = NULL;
	struct audit_verify v;
	struct audit a;
	cJSON *arr;

	if (!ready) {
		if (idw_arena_init(IDW_ARENA_ALLOW_UNLOCKED) != 0)
			abort();
		idw_arena_cjson_hooks();
		ready = 1;
	}
	if (size == 0)
		return 0;
	fresh_log(&a);
	if (data[0] & 1) {
		damaged_log(&a, data + 1, size - 1, &m);
		mp = &m;
	} else if (pwrite(a.fd, data + 1, size - 1, 16) !=
		   (ssize_t)(size - 1)) {
		abort();
	}
	a.end = 16;
	if (audit_unlock_at(&a, key, mp, why, sizeof(why)) == 0) {
		memset(&v, 0, sizeof(v));
		v.mark = mp;
		v.agent_seq = a.seq;
		v.agent_end = a.end;
		arr = cJSON_CreateObject();
		if (audit_verify_run(&a, &v) == 0 &&
		    audit_verify_report(&v, arr) != 0)
			abort();
		cJSON_Delete(arr);
		arr = cJSON_CreateArray();
		if (audit_query(&a, &f, arr, next, NULL) == 0 && next[0]) {
			f.oldest_first = true;
			if (audit_cursor_parse(next, &f) == 0)
				ignore(audit_query(&a, &f, arr, next, NULL));
		}
		f.passport_id = "pp_aaaaaaaaaaaaaaaa";
		ignore(audit_query(&a, &f, arr, next, NULL));
		cJSON_Delete(arr);
		ignore(audit_append(&a, &(struct audit_event){.action = "lock",
							      .result = "ok"}));
	}
	audit_close(&a);
	return 0;
}
