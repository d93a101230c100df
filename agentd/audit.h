/* SPDX-License-Identifier: ISC */
#ifndef IDW_AUDIT_H
#define IDW_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

/*
 * audit.idw (docs/audit-format.md): a clear file header, then entries
 *   u32 len | u64 seq | tag[16] | nonce[24] | ciphertext[len] | chain[16]
 * tag = keyed BLAKE2b of the passport id (find one passport's entries
 * without decrypting the rest); the body is XChaCha20-Poly1305 under a key
 * derived from the audit key kept in the vault; chain = keyed BLAKE2b over
 * the previous chain value and the whole entry, so a removed, reordered or
 * edited entry shows without decrypting.  Entries never hold a value,
 * token or passphrase.
 *
 * Writing: an entry is written with one pwrite at the end of the file
 * before audit_append returns; it is fsynced at once when the event asks
 * (critical passports), else within AUDIT_SYNC_DELAY_MS by audit_tick.
 * Events that cannot be written yet (the agent is locked, or the log
 * refused a write) are held in memory, in order, and written first when
 * the log takes writes again.
 */
#define AUDIT_KEY_LEN 32
#define AUDIT_CHAIN 16
#define AUDIT_HELD_MAX 64
#define AUDIT_SYNC_DELAY_MS 1000

/* An event; every field may be NULL (written as null). */
struct audit_event {
	const char *principal;
	const char *claimed_actor;
	const char *action; /* docs/audit-format.md lists them */
	const char *passport_id;
	const char *platform;
	const char *purpose;
	const char *result; /* allowed, denied, ok, failed, ... */
	const char *reason;
	int64_t time; /* when it happened, 0: now */
	bool sync;    /* fsync before returning */
	bool gate;    /* a release waits on it (so does every result
			 "allowed"): written now, or kept only as the
			 refusal it then becomes */
};

/* Where the log stood when the vault's checkpoint n was written. */
struct audit_mark {
	uint64_t n;		    /* checkpoint number: 1, 2, ... */
	uint64_t seq;		    /* entries it vouches for */
	uint64_t end;		    /* file offset after entry seq */
	uint8_t chain[AUDIT_CHAIN]; /* chain value of entry seq */
};

/* What the walk at unlock found. */
struct audit_found {
	bool mark_ok;	     /* the vault's checkpoint is in the file */
	uint64_t after_mark; /* entries after it (its anchor entry aside) */
	uint64_t damaged;    /* first entry failing its check, 0 none */
	char damaged_why[200];
	uint64_t anchor_n;   /* newest checkpoint an anchor entry names */
	uint64_t anchor_seq; /* that entry's sequence number */
	uint64_t torn_bytes; /* a torn final entry cut off, 0 none */
	uint64_t last_seq;   /* sequence number of the last entry walked */
};

struct audit_held {
	cJSON *f; /* the event's fields, copied */
	int64_t time;
	bool sync;
};

struct audit {
	int fd;
	uint8_t *keys; /* arena: enc | tag | chain keys, NULL when locked */
	uint64_t seq;  /* sequence number of the last entry */
	uint8_t head[AUDIT_CHAIN];
	uint64_t end;  /* file offset of the next entry */
	bool broken;   /* a write or sync failed: releases are denied */
	bool unlinked; /* no link any more: broken until a restart */
	bool cut;      /* shorter than we left it: broken until a restart */
	char broken_why[160];
	uint64_t dirty_ms; /* boot ms of the oldest write not synced, 0 */
	struct audit_held held[AUDIT_HELD_MAX];
	size_t nheld;
	uint64_t dropped; /* events that found the queue full */
	struct audit_found found;
	/* Entries about a passport this says is critical are synced. */
	bool (*critical)(void *ctx, const char *passport_id);
	void *critical_ctx;
};

void audit_init(struct audit *a);
/* Open (create 0600) before the sandbox; writes the header when empty. */
int audit_open(struct audit *a, const char *path) IDW_WUR;
/*
 * Derive the keys and find the head (after the vault unlocked): walk the
 * file from the vault's checkpoint mark when the file holds it, else from
 * the start, checking each entry's sequence number and chain against the
 * one before it.  A torn final entry is cut off.  An entry that fails its
 * check is reported in a->found and the walk goes on; a length that
 * cannot be followed, or a log in which no entry passes (another key),
 * stops the unlock naming the entry and its byte offset.  Then the held
 * events are written.
 */
int audit_unlock_at(struct audit *a, const uint8_t key[AUDIT_KEY_LEN],
		    const struct audit_mark *mark, char *why,
		    size_t whylen) IDW_WUR;
/* audit_unlock_at without a mark. */
int audit_unlock(struct audit *a, const uint8_t key[AUDIT_KEY_LEN], char *why,
		 size_t whylen) IDW_WUR;
/* Sync what was written, wipe the keys; held events stay. */
void audit_lock(struct audit *a);
void audit_close(struct audit *a);

/*
 * Append one entry.  0: it is written (and synced when ev->sync or its
 * passport is critical).  Otherwise nothing of it is on disk: IDW_ELOCKED
 * or IDW_EIO with the event held (a gate event as a denial: "nothing was
 * released"), IDW_ETOOBIG for an event too large for an entry.
 */
int audit_append(struct audit *a, const struct audit_event *ev) IDW_WUR;
/*
 * An anchor entry: the vault's checkpoint n was written (action
 * "checkpoint", or "re-anchor" with principal and reason).  extra, when
 * not NULL, is added to the body (consumed).
 */
int audit_append_anchor(struct audit *a, uint64_t n, const char *action,
			const char *principal, const char *result,
			const char *reason, cJSON *extra) IDW_WUR;

/*
 * Write the held events now if the log takes writes again; 0 when nothing
 * waits any more (the state says why otherwise).
 */
int audit_retry(struct audit *a);
/* fsync what was written and not yet synced. */
int audit_sync(struct audit *a) IDW_WUR;
/* Boot ms at which a sync is due, 0 when none is. */
uint64_t audit_sync_due(const struct audit *a);
/* The poll loop's turn: sync when due. */
void audit_tick(struct audit *a, uint64_t now_ms);
/* The head as a mark (n left 0). */
void audit_head_mark(const struct audit *a, struct audit_mark *m);

/*
 * The newest entries (at most limit, newest first) of one passport, or of
 * all when passport_id is NULL, decrypted into arr (audit_query.c).
 */
int audit_recent(struct audit *a, const char *passport_id, size_t limit,
		 cJSON *arr) IDW_WUR;

#endif
