/* SPDX-License-Identifier: ISC */
/*
 * Backup, restore and repair: the agent's half (docs/protocol.md "Backup,
 * restore and repair", docs/vault-format.md "Backup, restore and repair").
 *
 * backup streams ciphertext in pages.  A copy stays consistent while the
 * agent serves because the first page takes the sizes of both files and
 * carries the header and both slot areas (the only bytes rewritten in
 * place); below those sizes the journal and the audit log are only ever
 * appended to until the next start compacts, so later pages read bytes
 * that can no longer change.
 *
 * restore and repair are person-proven: the files themselves are swapped
 * or cut by the CLI and by idw-agentd --repair (agentd/repair.c), outside
 * the sandbox; these verbs write the audit entries and the re-anchor.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "agentd/dispatch.h"
#include "common/fio.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"

/* Header core and padding, slot areas A and B (docs/vault-format.md). */
#define BACKUP_HEAD 12288u
/* A page fits a frame with room to spare; the first holds the head. */
#define BACKUP_PAGE (256u * 1024u)
#define ULL(x) ((unsigned long long)(x))

/* Cursors name the agent run they belong to: a start may compact. */
static char run_hex[17];

static const char *backup_run(void)
{
	uint8_t r[8];

	if (run_hex[0] == '\0') {
		randombytes_buf(r, sizeof(r));
		sodium_bin2hex(run_hex, sizeof(run_hex), r, sizeof(r));
	}
	return run_hex;
}

/* What the agent has committed: the sizes a copy may reach. */
static void backup_sizes(struct agent *a, uint64_t *vsize, uint64_t *asize)
{
	struct stat st;

	*vsize = BACKUP_HEAD + idw_vault_journal_size(a->vault);
	if (a->audit.keys != NULL)
		*asize = a->audit.end;
	else if (a->audit.fd >= 0 && fstat(a->audit.fd, &st) == 0)
		*asize = (uint64_t)st.st_size;
	else
		*asize = 0;
}

struct backup_pos {
	bool audit; /* which file this page reads */
	uint64_t off, vsize, asize;
	bool with_audit;
};

/* A cursor from the client: only what this run could have handed out. */
static int cursor_parse(struct agent *a, const cJSON *cur,
			struct backup_pos *pos, struct reply *rep)
{
	const char *run = idw_json_str(cur, "run");
	const char *file = idw_json_str(cur, "file");
	int64_t off = idw_json_int(cur, "offset", -1);
	int64_t vs = idw_json_int(cur, "vault_size", -1);
	int64_t as = idw_json_int(cur, "audit_size", -1);
	uint64_t vnow, anow;

	if (!cJSON_IsObject(cur) || run == NULL || file == NULL || off < 0 ||
	    vs < BACKUP_HEAD || as < 0)
		return reply_error(rep, IDW_EUSAGE, "malformed backup cursor");
	if (strcmp(run, backup_run()) != 0)
		return reply_error(rep, IDW_EINVAL,
				   "the agent restarted during the backup: run "
				   "'idw backup' again");
	backup_sizes(a, &vnow, &anow);
	if ((uint64_t)vs > vnow || (uint64_t)as > anow)
		return reply_error(rep, IDW_EINVAL,
				   "the vault or the audit log became shorter "
				   "during the backup: run 'idw backup' again");
	pos->vsize = (uint64_t)vs;
	pos->asize = (uint64_t)as;
	pos->off = (uint64_t)off;
	pos->with_audit = idw_json_bool(cur, "with_audit", false);
	if (strcmp(file, "vault") == 0) {
		/* The head came with the first page, from the same moment. */
		if (pos->off < BACKUP_HEAD || pos->off >= pos->vsize)
			return reply_error(rep, IDW_EUSAGE,
					   "backup cursor out of range");
	} else if (strcmp(file, "audit") == 0 && pos->with_audit) {
		pos->audit = true;
		if (pos->off >= pos->asize)
			return reply_error(rep, IDW_EUSAGE,
					   "backup cursor out of range");
	} else {
		return reply_error(rep, IDW_EUSAGE, "malformed backup cursor");
	}
	return 0;
}

static cJSON *cursor_make(const struct backup_pos *pos, bool audit,
			  uint64_t off)
{
	cJSON *c = cJSON_CreateObject();

	if (c == NULL || !cJSON_AddStringToObject(c, "run", backup_run()) ||
	    !cJSON_AddStringToObject(c, "file", audit ? "audit" : "vault") ||
	    !cJSON_AddNumberToObject(c, "offset", (double)off) ||
	    !cJSON_AddNumberToObject(c, "vault_size", (double)pos->vsize) ||
	    !cJSON_AddNumberToObject(c, "audit_size", (double)pos->asize) ||
	    !cJSON_AddBoolToObject(c, "with_audit", pos->with_audit)) {
		cJSON_Delete(c);
		return NULL;
	}
	return c;
}

/* The first page: record the copy, then take both sizes at once. */
static int backup_begin(struct agent *a, struct peer *p, bool with_audit,
			struct backup_pos *pos)
{
	char why[200];
	uint64_t vs, as;

	backup_sizes(a, &vs, &as);
	snprintf(why, sizeof(why),
		 "a copy of the vault (%llu bytes)%s is streamed to the client",
		 ULL(vs), with_audit ? " and of the audit log" : "");
	/* Locked, the entry is held and written after the next unlock. */
	if (audit_append(&a->audit,
			 &(struct audit_event){
				 .principal = p->principal,
				 .claimed_actor = p->claimed_actor,
				 .action = "backup",
				 .result = "ok",
				 .reason = why,
			 }) != 0 &&
	    !a->locked)
		return IDW_EIO;
	memset(pos, 0, sizeof(*pos));
	backup_sizes(a, &pos->vsize, &pos->asize);
	pos->with_audit = with_audit;
	if (!with_audit)
		pos->asize = 0;
	return 0;
}

int verb_backup(struct agent *a, struct peer *p, const struct verb_args *in,
		struct reply *rep)
{
	const cJSON *cur = cJSON_GetObjectItemCaseSensitive(in->req, "cursor");
	struct backup_pos pos = {0};
	char vid[33];
	uint64_t size, n;
	uint8_t *page = NULL;
	cJSON *o, *next = NULL;
	int r;

	if (cur != NULL && !cJSON_IsNull(cur)) {
		if ((r = cursor_parse(a, cur, &pos, rep)) != 0)
			return r;
	} else if (backup_begin(a, p,
				idw_json_bool(in->req, "with_audit", false),
				&pos) != 0) {
		return reply_error(
			rep, IDW_EIO,
			"the audit log cannot be written, so no copy "
			"leaves: %s",
			a->audit.broken_why);
	}
	size = pos.audit ? pos.asize : pos.vsize;
	n = size - pos.off < BACKUP_PAGE ? size - pos.off : BACKUP_PAGE;
	if ((page = idw_arena_alloc(n > 0 ? n : 1)) == NULL)
		return reply_error(rep, IDW_ENOMEM, "out of memory");
	if (n > 0 &&
	    idw_pread_all(pos.audit ? a->audit.fd : idw_vault_fd(a->vault),
			  page, n, pos.off) != 0) {
		idw_arena_free(page);
		return reply_error(rep, IDW_EIO, "reading %s failed",
				   pos.audit ? "the audit log" : "the vault");
	}
	if (!pos.audit && pos.off + n < pos.vsize)
		next = cursor_make(&pos, false, pos.off + n);
	else if (!pos.audit && pos.asize > 0)
		next = cursor_make(&pos, true, 0);
	else if (pos.audit && pos.off + n < pos.asize)
		next = cursor_make(&pos, true, pos.off + n);
	if ((o = reply_ok(rep)) == NULL) {
		cJSON_Delete(next);
		idw_arena_free(page);
		return IDW_ENOMEM;
	}
	idw_vault_id_hex(a->vault, vid);
	cJSON_AddStringToObject(o, "vault_id", vid);
	cJSON_AddStringToObject(o, "file", pos.audit ? "audit" : "vault");
	cJSON_AddNumberToObject(o, "offset", (double)pos.off);
	cJSON_AddNumberToObject(o, "length", (double)n);
	cJSON_AddNumberToObject(o, "vault_size", (double)pos.vsize);
	cJSON_AddNumberToObject(o, "audit_size", (double)pos.asize);
	if (next != NULL)
		cJSON_AddItemToObject(o, "next_cursor", next);
	rep->secret = page;
	rep->secret_len = (size_t)n;
	rep->has_secret = true;
	return 0;
}

/* {"blake2b": 64 hex, "size": n, "vault_id": 32 hex} of a backup file. */
static int backup_desc(const cJSON *req, char hash[65], uint64_t *size,
		       char vid[33])
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(req, "backup");
	const char *h = idw_json_str(b, "blake2b");
	const char *v = idw_json_str(b, "vault_id");
	int64_t n = idw_json_int(b, "size", -1);

	if (h == NULL || v == NULL || strlen(h) != 64 || strlen(v) != 32 ||
	    strspn(h, "0123456789abcdef") != 64 ||
	    strspn(v, "0123456789abcdef") != 32 || n < BACKUP_HEAD)
		return IDW_EUSAGE;
	memcpy(hash, h, 65);
	memcpy(vid, v, 33);
	*size = (uint64_t)n;
	return 0;
}

/* A file name the CLI chose, bounded and kept to printable ASCII. */
static void name_of(const cJSON *req, const char *key, char *out, size_t len)
{
	const char *s = idw_json_str(req, key);
	size_t i = 0;

	for (; s != NULL && s[i] != '\0' && i + 1 < len; i++)
		out[i] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[i] = '\0';
}

int verb_restore(struct agent *a, struct peer *p, const struct verb_args *in,
		 struct reply *rep)
{
	const char *step = idw_json_str(in->req, "step");
	char hash[65], vid[33], mine[33], why[400], kept[128];
	int64_t major;
	uint64_t size;
	cJSON *o;
	int r;

	if (step == NULL || backup_desc(in->req, hash, &size, vid) != 0)
		return reply_error(rep, IDW_EUSAGE,
				   "restore needs 'step' and 'backup' "
				   "{blake2b, size, vault_id}");
	major = idw_json_int(
		cJSON_GetObjectItemCaseSensitive(in->req, "backup"), "major",
		0);
	if (major > IDW_VAULT_MAJOR)
		return reply_error(rep, IDW_EVERSION,
				   "the backup is of vault format %lld, newer "
				   "than this idw reads (%d): restore it with "
				   "the idw that wrote it, or a newer one",
				   (long long)major, IDW_VAULT_MAJOR);
	idw_vault_id_hex(a->vault, mine);
	if (strcmp(vid, mine) != 0)
		return reply_error(rep, IDW_EINVAL,
				   "the backup holds vault %s but this agent "
				   "serves vault %s",
				   vid, mine);
	if (strcmp(step, "replace") == 0) {
		snprintf(why, sizeof(why),
			 "the vault is replaced by a backup (BLAKE2b-256 %s, "
			 "%llu bytes); the agent stops for it",
			 hash, ULL(size));
		r = audit_append(&a->audit,
				 &(struct audit_event){
					 .principal = p->principal,
					 .claimed_actor = p->claimed_actor,
					 .action = "restore",
					 .result = "ok",
					 .reason = why,
					 .sync = true,
				 });
		if (r != 0)
			return reply_error(rep, IDW_EIO,
					   "the audit log cannot be written, "
					   "so the vault is not replaced: %s",
					   a->audit.broken_why);
		/* Every client gets a closed connection, then no agent. */
		a->stopping = true;
		if ((o = reply_ok(rep)) == NULL)
			return IDW_ENOMEM;
		cJSON_AddNumberToObject(o, "pid", (double)getpid());
		return 0;
	}
	if (strcmp(step, "anchor") != 0)
		return reply_error(rep, IDW_EUSAGE,
				   "restore step is 'replace' or 'anchor'");
	name_of(in->req, "replaced", kept, sizeof(kept));
	snprintf(why, sizeof(why),
		 "restore of a backup (BLAKE2b-256 %.16s..., %llu bytes); the "
		 "replaced vault is kept as %s",
		 hash, ULL(size), kept[0] ? kept : "(none)");
	if ((r = anchor_reanchor(a, p->principal, why)) != 0)
		return reply_error(rep, r, "writing the re-anchor failed: %s",
				   idw_strerror(r));
	if ((o = reply_ok(rep)) == NULL)
		return IDW_ENOMEM;
	cJSON_AddNumberToObject(o, "checkpoint", (double)a->anchor.mark.n);
	return 0;
}

int verb_repair(struct agent *a, struct peer *p, const struct verb_args *in,
		struct reply *rep)
{
	int64_t cut = idw_json_int(in->req, "cut_at", -1);
	int64_t kept = idw_json_int(in->req, "kept_records", -1);
	char damaged[128], why[400];
	cJSON *o;
	int r;

	if (cut < BACKUP_HEAD || kept < 0)
		return reply_error(rep, IDW_EUSAGE,
				   "repair needs 'cut_at' and 'kept_records'");
	name_of(in->req, "damaged", damaged, sizeof(damaged));
	snprintf(why, sizeof(why),
		 "repair: the vault's journal was cut at byte offset %lld, "
		 "after record %lld; the damaged file is kept as %s",
		 (long long)cut, (long long)kept,
		 damaged[0] ? damaged : "(none)");
	if ((r = anchor_reanchor(a, p->principal, why)) != 0)
		return reply_error(rep, r, "writing the re-anchor failed: %s",
				   idw_strerror(r));
	if ((o = reply_ok(rep)) == NULL)
		return IDW_ENOMEM;
	cJSON_AddNumberToObject(o, "checkpoint", (double)a->anchor.mark.n);
	return 0;
}
