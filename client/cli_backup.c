/* SPDX-License-Identifier: ISC */
/*
 * idw backup and idw restore (docs/vault-format.md "Backup, restore and
 * repair").  The agent streams ciphertext; this side writes files.  A
 * restore swaps the vault while holding agentd.lock, so no agent opens
 * either file meanwhile, and then asks the new agent to re-anchor the
 * audit log, with person proof both times.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "client/cli.h"
#include "client/cli_backup.h"
#include "client/cli_input.h"
#include "client/cli_proof.h"
#include "common/fio.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "common/paths.h"
#include "common/vhdr.h"

/* docs/vault-format.md: header core, padding and both slot areas. */
#define VAULT_HEAD 12288u
#define BACKUP_MAX_FILE (1024ull * 1024u * 1024u)
#define LOCK_WAIT_MS 15000
#define ULL(x) ((unsigned long long)(x))

int cli_fsync_dir_of(const char *path)
{
	char dir[IDW_PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc = 0;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return IDW_EIO;
	if (fsync(fd) != 0)
		rc = IDW_EIO;
	close(fd);
	return rc;
}

void cli_stamp(char out[32])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, 32, "%Y%m%dT%H%M%SZ", &tm);
}

int cli_confirm(bool yes, const char *what)
{
	struct idw_buf b;
	char prompt[160];
	int r;

	if (yes)
		return 0;
	if (!isatty(STDIN_FILENO)) {
		cli_warnf("%s: confirm with --yes (stdin is not a terminal)",
			  what);
		return IDW_EUSAGE;
	}
	idw_buf_init(&b, 16, 0);
	snprintf(prompt, sizeof(prompt), "%s? Type 'yes' to go on: ", what);
	r = cli_prompt_tty(prompt, &b, 8);
	if (r == 0 && !(b.len == 3 && memcmp(b.d, "yes", 3) == 0))
		r = IDW_EUSAGE;
	idw_buf_free(&b);
	if (r != 0)
		cli_warn("nothing was changed");
	return r;
}

int cli_home_file(char *out, size_t len, const char *name)
{
	return idw_path_join(out, len, cli_home(), name);
}

int cli_lock_home(int *fd_out)
{
	char path[IDW_PATH_MAX];
	uint64_t end = idw_boot_ms() + LOCK_WAIT_MS;
	/* The agent that was told to stop needs a moment to go. */
	uint64_t nudge = idw_boot_ms() + 2000;
	const struct timespec step = {0, 50 * 1000 * 1000};
	struct idwc_reply rep;
	struct idwc *c;
	cJSON *req;
	int fd;

	*fd_out = -1;
	if (cli_home_file(path, sizeof(path), "agentd.lock") != 0)
		return IDW_ETOOBIG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		cli_warnf("cannot open %s: %s", path, strerror(errno));
		return IDW_EIO;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK || idw_boot_ms() >= end) {
			cli_warnf("an agent keeps %s locked: stop it with 'idw "
				  "agent stop' and try again",
				  path);
			close(fd);
			return IDW_EAGENT;
		}
		/* An agent another client started meanwhile: ask it to go. */
		if (idw_boot_ms() >= nudge) {
			nudge = idw_boot_ms() + 2000;
			if (cli_connect(CLI_CONN_ABSENT_OK, NULL, &c) == 0) {
				if ((req = cli_request("stop")) != NULL &&
				    cli_call(c, req, NULL, &rep) >= 0)
					cli_reply_free(&rep);
				cJSON_Delete(req);
				idwc_close(c);
			}
		}
		nanosleep(&step, NULL);
	}
	*fd_out = fd;
	return 0;
}

/* FILE.tmp-XXXXXX next to it, 0600. */
static int tmp_open(const char *file, char *tmp, size_t len)
{
	int fd;

	if ((size_t)snprintf(tmp, len, "%s.tmp-XXXXXX", file) >= len)
		return -1;
	fd = mkstemp(tmp);
	if (fd >= 0 && fchmod(fd, 0600) != 0) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	return fd;
}

struct copy {
	const char *name; /* where it goes */
	char tmp[IDW_PATH_MAX];
	int fd;
	uint64_t size, written;
	crypto_generichash_state h;
};

/* One page into its file; pages come in order, so the hash follows. */
static int take_page(struct copy *cp, const cJSON *j, const uint8_t *bytes,
		     size_t n)
{
	int64_t off = idw_json_int(j, "offset", -1);
	int64_t len = idw_json_int(j, "length", -1);

	if (off < 0 || len < 0 || (uint64_t)len != n ||
	    (uint64_t)off != cp->written || cp->written + n > cp->size) {
		cli_warn("the agent sent a backup page out of order");
		return IDW_EINVAL;
	}
	if (idw_pwrite_all(cp->fd, bytes, n, (uint64_t)off) != 0) {
		cli_warnf("writing %s failed: %s", cp->tmp, strerror(errno));
		return IDW_EIO;
	}
	crypto_generichash_update(&cp->h, bytes, n);
	cp->written += n;
	return 0;
}

static int copy_finish(struct copy *cp)
{
	if (cp->written != cp->size) {
		cli_warnf("the copy of %s is incomplete (%llu of %llu bytes)",
			  cp->name, ULL(cp->written), ULL(cp->size));
		return IDW_EIO;
	}
	if (fsync(cp->fd) != 0 || rename(cp->tmp, cp->name) != 0) {
		cli_warnf("writing %s failed: %s", cp->name, strerror(errno));
		return IDW_EIO;
	}
	cp->tmp[0] = '\0';
	return cli_fsync_dir_of(cp->name);
}

static bool refuse_existing(const char *path, bool force)
{
	struct stat st;

	if (force || lstat(path, &st) != 0)
		return false;
	cli_warnf("%s exists: choose another name, or add --force to replace "
		  "it",
		  path);
	return true;
}

/* Page by page until the agent gives no next cursor. */
static int stream(struct idwc *c, bool with_audit, struct copy *cp)
{
	struct idwc_reply rep = {0};
	cJSON *req = NULL, *next = NULL;
	const char *file, *vid;
	bool first = true;
	int rc = 0;

	for (;;) {
		if ((req = cli_request("backup")) == NULL ||
		    !cJSON_AddBoolToObject(req, "with_audit", with_audit)) {
			rc = CLI_EXIT_ERR;
			break;
		}
		if (next != NULL) {
			cJSON_AddItemToObject(req, "cursor", next);
			next = NULL;
		}
		if ((rc = cli_call(c, req, NULL, &rep)) != 0)
			break;
		file = idw_json_str(rep.json, "file");
		vid = idw_json_str(rep.json, "vault_id");
		if (first) {
			cp[0].size = (uint64_t)idw_json_int(rep.json,
							    "vault_size", 0);
			cp[1].size = (uint64_t)idw_json_int(rep.json,
							    "audit_size", 0);
			if (vid == NULL ||
			    strcmp(vid, idwc_hello_info(c)->vault_id) != 0 ||
			    rep.secret_len < 4 ||
			    memcmp(rep.secret, IDW_VHDR_MAGIC, 4) != 0) {
				cli_warn("the agent's first backup page is not "
					 "the vault it serves");
				rc = CLI_EXIT_ERR;
				break;
			}
			first = false;
		}
		if (file == NULL ||
		    (strcmp(file, "vault") != 0 &&
		     strcmp(file, "audit") != 0) ||
		    take_page(&cp[strcmp(file, "audit") == 0], rep.json,
			      rep.secret, rep.secret_len) != 0) {
			rc = CLI_EXIT_ERR;
			break;
		}
		next = cJSON_DetachItemFromObjectCaseSensitive(rep.json,
							       "next_cursor");
		cli_reply_free(&rep);
		cJSON_Delete(req);
		req = NULL;
		if (next == NULL)
			break;
	}
	cli_reply_free(&rep);
	cJSON_Delete(req);
	cJSON_Delete(next);
	return rc;
}

int cli_backup(const struct cli_args *a)
{
	const char *file = cli_arg_pos(a, 0);
	bool force = cli_arg_set(a, "force");
	bool with_audit = cli_arg_set(a, "with-audit");
	char audit_name[IDW_PATH_MAX], hex[65];
	uint8_t hash[32];
	struct copy cp[2];
	struct idwc *c = NULL;
	int rc = CLI_EXIT_ERR, r;

	memset(cp, 0, sizeof(cp));
	cp[0].fd = cp[1].fd = -1;
	if ((size_t)snprintf(audit_name, sizeof(audit_name), "%s.audit",
			     file) >= sizeof(audit_name)) {
		cli_warn("file name too long");
		return CLI_EXIT_USAGE;
	}
	if (refuse_existing(file, force) ||
	    (with_audit && refuse_existing(audit_name, force)))
		return CLI_EXIT_ERR;
	cp[0].name = file;
	cp[1].name = audit_name;
	for (int i = 0; i < (with_audit ? 2 : 1); i++) {
		crypto_generichash_init(&cp[i].h, NULL, 0, sizeof(hash));
		if ((cp[i].fd = tmp_open(cp[i].name, cp[i].tmp,
					 sizeof(cp[i].tmp))) < 0) {
			cli_warnf("cannot create a file next to %s: %s",
				  cp[i].name, strerror(errno));
			goto out;
		}
	}
	if ((r = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0) {
		rc = idw_err_exit(r);
		goto out;
	}
	if ((rc = stream(c, with_audit, cp)) != 0)
		goto out;
	rc = CLI_EXIT_ERR;
	if (copy_finish(&cp[0]) != 0 ||
	    (with_audit && copy_finish(&cp[1]) != 0))
		goto out;
	crypto_generichash_final(&cp[0].h, hash, sizeof(hash));
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	printf("backup written: %s (%llu bytes, vault %s, BLAKE2b-256 %s)\n",
	       file, ULL(cp[0].size), idwc_hello_info(c)->vault_id, hex);
	if (with_audit)
		printf("audit log copy: %s (%llu bytes)\n", audit_name,
		       ULL(cp[1].size));
	cli_warnf("warning: %s opens with today's unlock secrets: the "
		  "passphrase, every session token that can unlock and the "
		  "keychain key, until 'idw vault rekey'.  Keep it as safe as "
		  "the vault itself.",
		  file);
	rc = CLI_EXIT_OK;
out:
	for (int i = 0; i < 2; i++) {
		if (cp[i].fd >= 0)
			close(cp[i].fd);
		if (cp[i].tmp[0] != '\0')
			unlink(cp[i].tmp);
	}
	idwc_close(c);
	return rc;
}

/* What restore checks in a backup file before it touches anything. */
struct backup_file {
	uint8_t *d;
	uint64_t size;
	char vault_id[33];
	unsigned major, minor;
	char hash[65];
};

static int backup_read(const char *path, struct backup_file *b)
{
	struct stat st;
	uint8_t h[32];
	uint64_t got = 0;
	ssize_t n;
	int fd;

	memset(b, 0, sizeof(*b));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		cli_warnf("cannot open %s: %s", path, strerror(errno));
		return IDW_ENOENT;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > BACKUP_MAX_FILE ||
	    (uint64_t)st.st_size < VAULT_HEAD ||
	    (b->d = malloc((size_t)st.st_size)) == NULL) {
		close(fd);
		cli_warnf("%s is not a vault backup (a file of at least %u "
			  "bytes made by 'idw backup')",
			  path, VAULT_HEAD);
		return IDW_EINVAL;
	}
	b->size = (uint64_t)st.st_size;
	while (got < b->size) {
		n = read(fd, b->d + got, b->size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (uint64_t)n;
	}
	close(fd);
	if (got != b->size || memcmp(b->d, IDW_VHDR_MAGIC, 4) != 0) {
		cli_warnf("%s is not a vault backup (no IDWV header)", path);
		return IDW_EINVAL;
	}
	b->major = (unsigned)(b->d[4] | b->d[5] << 8);
	b->minor = (unsigned)(b->d[6] | b->d[7] << 8);
	sodium_bin2hex(b->vault_id, sizeof(b->vault_id), b->d + IDW_VHDR_ID_OFF,
		       IDW_VHDR_ID_LEN);
	crypto_generichash(h, sizeof(h), b->d, b->size, NULL, 0);
	sodium_bin2hex(b->hash, sizeof(b->hash), h, sizeof(h));
	return 0;
}

static cJSON *restore_request(const struct backup_file *b, const char *step)
{
	cJSON *req = cli_request("restore"), *d;

	if (req == NULL || !cJSON_AddStringToObject(req, "step", step) ||
	    (d = cJSON_AddObjectToObject(req, "backup")) == NULL ||
	    !cJSON_AddStringToObject(d, "blake2b", b->hash) ||
	    !cJSON_AddNumberToObject(d, "size", (double)b->size) ||
	    !cJSON_AddStringToObject(d, "vault_id", b->vault_id) ||
	    !cJSON_AddNumberToObject(d, "major", b->major) ||
	    !cJSON_AddNumberToObject(d, "minor", b->minor)) {
		cJSON_Delete(req);
		return NULL;
	}
	return req;
}

/* Write the backup as dst: tmp, fsync, keep the old one by a link, rename. */
static int install(const struct backup_file *b, const char *dst,
		   const char *keep_as)
{
	char tmp[IDW_PATH_MAX];
	int fd, rc = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.restore-tmp", dst) >=
	    sizeof(tmp))
		return IDW_ETOOBIG;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0 || idw_pwrite_all(fd, b->d, b->size, 0) != 0 ||
	    fsync(fd) != 0)
		rc = IDW_EIO;
	if (fd >= 0)
		close(fd);
	/* The replaced vault keeps its name until the new one takes it. */
	if (rc == 0 && keep_as != NULL && link(dst, keep_as) != 0)
		rc = IDW_EIO;
	if (rc == 0 && rename(tmp, dst) != 0)
		rc = IDW_EIO;
	if (rc != 0) {
		cli_warnf("installing the backup as %s failed: %s", dst,
			  strerror(errno));
		unlink(tmp);
		return rc;
	}
	return cli_fsync_dir_of(dst);
}

struct restore_ctx {
	struct backup_file b;
	struct idw_buf pass;
	bool have_pass;
	unsigned proof_flags;
	char vault[IDW_PATH_MAX];
	char replaced[IDW_PATH_MAX]; /* "" when there was no vault */
	const char *replaced_name;
};

/* Step 1, with a vault in place: a proven 'replace'; the agent stops. */
static int restore_replace(struct restore_ctx *x)
{
	struct idwc_reply rep = {0};
	struct idwc *c = NULL;
	cJSON *req;
	int r, rc;

	if ((r = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0) {
		cli_warn("the current vault must open to prove who asks for "
			 "the restore: if it is damaged run 'idw vault "
			 "repair', or move it aside by hand and restore again");
		return idw_err_exit(r);
	}
	if ((rc = cli_proof_read(c, "restore", x->proof_flags, &x->pass)) !=
	    0) {
		idwc_close(c);
		return rc;
	}
	x->have_pass = true;
	if ((req = restore_request(&x->b, "replace")) == NULL) {
		idwc_close(c);
		return CLI_EXIT_ERR;
	}
	rc = cli_call_proven_pass(c, req, NULL, &x->pass, &rep);
	cli_reply_free(&rep);
	cJSON_Delete(req);
	idwc_close(c);
	return rc;
}

/* Step 3: the agent of the restored vault writes the re-anchor. */
static int restore_anchor(struct restore_ctx *x)
{
	struct idwc_reply rep = {0};
	struct idwc *c = NULL;
	cJSON *req;
	int r, rc;

	r = cli_connect(CLI_CONN_AUTOSTART, x->have_pass ? &x->pass : NULL, &c);
	if (r != 0) {
		cli_warnf("the backup is in place but no agent opens it%s%s",
			  x->replaced[0] ? "; to undo, move it back: mv " : "",
			  x->replaced[0] ? x->replaced : "");
		if (x->replaced[0])
			fprintf(stderr, "    %s\n", x->vault);
		return idw_err_exit(r);
	}
	if (!x->have_pass && (rc = cli_proof_read(c, "restore", x->proof_flags,
						  &x->pass)) != 0) {
		idwc_close(c);
		return rc;
	}
	x->have_pass = true;
	rc = CLI_EXIT_ERR;
	if ((req = restore_request(&x->b, "anchor")) != NULL &&
	    (x->replaced_name == NULL ||
	     cJSON_AddStringToObject(req, "replaced", x->replaced_name))) {
		rc = cli_call_proven_pass(c, req, NULL, &x->pass, &rep);
		if (rc == 0)
			printf("audit log re-anchored at checkpoint %lld\n",
			       (long long)idw_json_int(rep.json, "checkpoint",
						       0));
		else
			cli_warn("the vault is restored, but the audit log "
				 "was not re-anchored: 'idw audit verify' "
				 "will report the older vault");
	}
	cli_reply_free(&rep);
	cJSON_Delete(req);
	idwc_close(c);
	return rc;
}

int cli_restore(const struct cli_args *a)
{
	const char *file = cli_arg_pos(a, 0);
	struct restore_ctx x;
	uint8_t cur_id[IDW_VHDR_ID_LEN];
	char cur_hex[33], stamp[32], what[IDW_PATH_MAX + 64];
	bool have_vault;
	struct stat st;
	int rc = CLI_EXIT_ERR, lockfd = -1;

	memset(&x, 0, sizeof(x));
	idw_buf_init(&x.pass, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	x.proof_flags =
		cli_arg_set(a, "passphrase-stdin") ? CLI_PROOF_STDIN : 0;
	if (backup_read(file, &x.b) != 0)
		goto out;
	if (cli_home_file(x.vault, sizeof(x.vault), "vault.idw") != 0)
		goto out;
	have_vault = lstat(x.vault, &st) == 0 && st.st_size > 0;
	if (have_vault) {
		if (idw_vhdr_peek_id(x.vault, cur_id) != 0) {
			cli_warnf("%s has no readable vault header: move it "
				  "aside by hand and restore again",
				  x.vault);
			goto out;
		}
		sodium_bin2hex(cur_hex, sizeof(cur_hex), cur_id,
			       sizeof(cur_id));
		if (strcmp(cur_hex, x.b.vault_id) != 0) {
			cli_warnf("%s is a backup of vault %s, but %s holds "
				  "vault %s: restore it into a home of its "
				  "own (IDW_HOME=DIR idw restore FILE)",
				  file, x.b.vault_id, cli_home(), cur_hex);
			goto out;
		}
	}
	printf("%s: vault %s, format %u.%u, %llu bytes, BLAKE2b-256 %s\n", file,
	       x.b.vault_id, x.b.major, x.b.minor, ULL(x.b.size), x.b.hash);
	fflush(stdout);
	snprintf(what, sizeof(what), "Replace the vault of %s with %s",
		 cli_home(), file);
	if (cli_confirm(cli_arg_set(a, "yes"), what) != 0) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if (have_vault && (rc = restore_replace(&x)) != 0)
		goto out;
	rc = CLI_EXIT_ERR;
	/* No agent may open either file while they change. */
	if (cli_lock_home(&lockfd) != 0)
		goto out;
	if (have_vault) {
		cli_stamp(stamp);
		if ((size_t)snprintf(x.replaced, sizeof(x.replaced),
				     "%s.replaced-%s", x.vault,
				     stamp) >= sizeof(x.replaced))
			goto out;
		x.replaced_name = strrchr(x.replaced, '/') + 1;
	}
	if (install(&x.b, x.vault, have_vault ? x.replaced : NULL) != 0)
		goto out;
	close(lockfd);
	lockfd = -1;
	printf("restored %s into %s\n", file, x.vault);
	if (have_vault)
		printf("the replaced vault is kept as %s\n", x.replaced);
	fflush(stdout);
	rc = restore_anchor(&x);
out:
	if (lockfd >= 0)
		close(lockfd);
	free(x.b.d);
	idw_buf_free(&x.pass);
	return rc;
}
