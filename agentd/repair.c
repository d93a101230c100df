/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "agentd/repair.h"
#include "agentd/vault.h"
#include "common/buf.h"
#include "common/fio.h"
#include "keychain/unlock.h"

/* docs/vault-format.md: where the journal starts, a record's header. */
#define JOURNAL_OFF 12288u
#define REC_HDR 36u
#define REC_MIN 28u
/* A vault this tool reads into memory at once. */
#define REPAIR_MAX_FILE (1024ull * 1024u * 1024u)
#define ULL(x) ((unsigned long long)(x))

enum repair_mode repair_mode_parse(const char *s)
{
	if (strcmp(s, "report") == 0)
		return REPAIR_REPORT;
	if (strcmp(s, "apply") == 0)
		return REPAIR_APPLY;
	return REPAIR_NONE;
}

/* What the scan found. */
struct damage {
	bool intact;
	uint64_t records; /* good records before the damage (or all) */
	uint64_t off;	  /* where the damaged record starts: the cut */
	uint64_t drop_records;
	char detail[256];
};

static int read_file(int fd, uint8_t **img, uint64_t *size)
{
	struct stat st;

	*img = NULL;
	if (fstat(fd, &st) != 0)
		return IDW_EIO;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
		return IDW_EPERM;
	if ((uint64_t)st.st_size > REPAIR_MAX_FILE)
		return IDW_ETOOBIG;
	*size = (uint64_t)st.st_size;
	/* Ciphertext only: the plaintext is the arena's, in the parser. */
	if ((*img = malloc(*size > 0 ? *size : 1)) == NULL)
		return IDW_ENOMEM;
	if (idw_pread_all(fd, *img, *size, 0) != 0) {
		free(*img);
		*img = NULL;
		return IDW_EIO;
	}
	return 0;
}

/* The records from off to the end, by their length fields alone. */
static uint64_t count_after(const uint8_t *img, uint64_t size, uint64_t off)
{
	uint64_t n = 0;
	uint32_t len;

	while (size - off >= REC_HDR) {
		len = idw_le32_get(img + off);
		if (len < REC_MIN || len > IDW_VAULT_MAX_RECORD ||
		    len > size - off - REC_HDR)
			break;
		off += REC_HDR + len;
		n++;
	}
	return n;
}

/*
 * Parse with the vault's own parser; when it refuses, find the record it
 * names (the good ones before it are whole, so their length fields lead
 * there) and check that the prefix before it opens on its own.
 */
static int scan(const uint8_t *img, uint64_t size, const uint8_t *pass,
		size_t passlen, struct damage *d, repair_say_fn say)
{
	struct idw_vault_report rep;
	uint64_t off = JOURNAL_OFF, i;
	uint32_t len;
	int r;

	memset(d, 0, sizeof(*d));
	memset(&rep, 0, sizeof(rep));
	r = idw_vault_parse_image(img, size, pass, passlen, NULL, NULL, &rep);
	if (r == 0) {
		d->intact = true;
		d->records = rep.records;
		return 0;
	}
	if (r == IDW_EUNLOCK) {
		say("error %s the passphrase does not open this vault "
		    "(repair takes the passphrase itself)",
		    idw_err_name(r));
		return r;
	}
	if (r != IDW_ECORRUPT) {
		say("error %s %s", idw_err_name(r), rep.detail);
		return r;
	}
	snprintf(d->detail, sizeof(d->detail), "%s", rep.detail);
	d->records = rep.records;
	for (i = 0; i < d->records; i++) {
		len = idw_le32_get(img + off);
		off += REC_HDR + len;
	}
	d->off = off;
	memset(&rep, 0, sizeof(rep));
	if (idw_vault_parse_image(img, off, pass, passlen, NULL, NULL, &rep) !=
		    0 ||
	    rep.records != d->records || rep.truncated_tail) {
		say("error %s %s: the damage is not in a journal record, so "
		    "there is no valid prefix to keep; restore a backup with "
		    "'idw restore FILE'",
		    idw_err_name(IDW_ECORRUPT), d->detail);
		return IDW_ECORRUPT;
	}
	if (size - off >= REC_HDR) {
		len = idw_le32_get(img + off);
		if (len >= REC_MIN && len <= IDW_VAULT_MAX_RECORD &&
		    len <= size - off - REC_HDR)
			d->drop_records =
				1 + count_after(img, size, off + REC_HDR + len);
	}
	return 0;
}

static void report(const struct damage *d, uint64_t size, repair_say_fn say)
{
	say("damage %s", d->detail);
	say("keep %llu %llu", ULL(d->records), ULL(d->off));
	say("drop %llu %llu %llu bytes from byte offset %llu to the end of "
	    "the file%s",
	    ULL(size - d->off), ULL(d->drop_records), ULL(size - d->off),
	    ULL(d->off),
	    d->drop_records > 0 ? ", the damaged record and what follows it "
				  "(counted by their length fields)"
				: "");
}

/* Write the whole file aside, durably, before anything is cut. */
static int save_aside(const char *vault_path, const uint8_t *img, uint64_t size,
		      char *name, size_t namelen)
{
	char path[4096], dir[4096], stamp[32];
	const char *slash = strrchr(vault_path, '/');
	time_t now = time(NULL);
	struct tm tm;
	uint64_t done = 0;
	ssize_t w;
	int fd, dfd, rc = 0;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(name, namelen, "%s.damaged-%s", slash ? slash + 1 : vault_path,
		 stamp);
	if (slash == NULL || (size_t)(slash - vault_path) >= sizeof(dir))
		return IDW_EINVAL;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - vault_path),
		 vault_path);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return IDW_ETOOBIG;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return errno == EEXIST ? IDW_EEXIST : IDW_EIO;
	while (done < size) {
		w = write(fd, img + done, size - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = IDW_EIO;
			break;
		}
		done += (uint64_t)w;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = IDW_EIO;
	close(fd);
	if (rc != 0) {
		unlink(path);
		return rc;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0)
		rc = IDW_EIO;
	if (dfd >= 0)
		close(dfd);
	return rc;
}

int repair_run(const char *vault_path, enum repair_mode mode, uint64_t cut_at,
	       int pass_fd, repair_say_fn say)
{
	struct unlock_secret s = {0};
	struct damage d;
	char why[300], name[300];
	uint8_t *img = NULL;
	uint64_t size = 0;
	int fd = -1, r;

	if (pass_fd < 0) {
		say("error %s repair needs the passphrase typed by a person "
		    "(--passphrase-fd)",
		    idw_err_name(IDW_EUSAGE));
		return IDW_EUSAGE;
	}
	if ((r = unlock_resolve(pass_fd, &s, why, sizeof(why))) != 0 ||
	    s.source == NULL || strcmp(s.source, "interactive") != 0) {
		say("error %s no passphrase came on the pipe: %s",
		    idw_err_name(IDW_EUNLOCK), r != 0 ? why : "(none)");
		r = IDW_EUNLOCK;
		goto out;
	}
	fd = open(vault_path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = errno == ENOENT ? IDW_ENOVAULT : IDW_EIO;
		say("error %s cannot open %s: %s", idw_err_name(r), vault_path,
		    strerror(errno));
		goto out;
	}
	if ((r = read_file(fd, &img, &size)) != 0) {
		say("error %s cannot read %s: %s", idw_err_name(r), vault_path,
		    idw_strerror(r));
		goto out;
	}
	if ((r = scan(img, size, s.pass, s.len, &d, say)) != 0)
		goto out;
	if (d.intact) {
		say("intact %llu", ULL(d.records));
		goto out;
	}
	report(&d, size, say);
	if (mode != REPAIR_APPLY)
		goto out;
	if (d.off != cut_at) {
		r = IDW_EINVAL;
		say("error %s the damage is now at byte offset %llu, not at "
		    "%llu: nothing was changed; run 'idw vault repair' again",
		    idw_err_name(r), ULL(d.off), ULL(cut_at));
		goto out;
	}
	if ((r = save_aside(vault_path, img, size, name, sizeof(name))) != 0) {
		say("error %s cannot keep the damaged file aside (%s): "
		    "nothing was cut",
		    idw_err_name(r), idw_strerror(r));
		goto out;
	}
	if (ftruncate(fd, (off_t)d.off) != 0 || fsync(fd) != 0) {
		r = IDW_EIO;
		say("error %s cutting %s failed (%s); the whole file is kept "
		    "as %s",
		    idw_err_name(r), vault_path, strerror(errno), name);
		goto out;
	}
	say("damaged %s", name);
out:
	unlock_secret_free(&s);
	free(img);
	if (fd >= 0)
		close(fd);
	return r;
}
