/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "agentd/vault.h"
#include "agentd/vault_journal.h"
#include "agentd/vault_priv.h"
#include "agentd/vault_slots.h"
#include "common/fio.h"

static int errno_err(int e)
{
	switch (e) {
	case ENOENT:
		return IDW_ENOENT;
	case EACCES:
	case EPERM:
	case ELOOP:
		return IDW_EPERM;
	case ENOMEM:
		return IDW_ENOMEM;
	default:
		return IDW_EIO;
	}
}

/* The directory entry of a new or renamed file is durable only after this. */
static int dir_fsync(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, rc = 0;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		return IDW_ETOOBIG;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno_err(errno);
	if (fsync(fd) != 0)
		rc = IDW_EIO;
	close(fd);
	return rc;
}

/*
 * The one parser behind idw_vault_unlock and idw_vault_parse_image:
 * header, slot areas, journal.  Reads only; on success *keys holds the
 * unwrapped keys and c where the chain stands.
 */
static int vault_parse(const struct vault_src *src,
		       const struct vault_cred *cred, idw_vault_rec_cb cb,
		       void *ctx, struct vault_slots *s,
		       struct vault_keys **keys, struct vault_chain *c,
		       struct idw_vault_report *rep)
{
	uint8_t head[VAULT_JOURNAL_OFF];
	char note[sizeof(rep->detail)];
	struct vault_src lsrc = *src;
	struct vault_ring ring;
	uint64_t pend;
	size_t n;
	int rc;

	*keys = NULL;
	memset(&ring, 0, sizeof(ring));
	if (src->size == 0) {
		snprintf(rep->detail, sizeof(rep->detail),
			 "vault not initialized");
		return IDW_ENOVAULT;
	}
	n = src->size < sizeof(head) ? (size_t)src->size : sizeof(head);
	if ((rc = vault_src_read(src, 0, head, n)) != 0 ||
	    (rc = vault_core_check(head, src->size, rep->detail,
				   sizeof(rep->detail))) != 0 ||
	    (rc = vault_slots_open(s, head, head + VAULT_HDR_SIZE, cred, keys,
				   rep->detail, sizeof(rep->detail))) != 0)
		goto out;
	memcpy(note, rep->detail, sizeof(note));
	/* An uncommitted key change is cut; a committed one is followed
	 * back to the key of the journal's first record. */
	if ((pend = vault_pending_off(s)) != 0) {
		if (pend > src->size) {
			snprintf(rep->detail, sizeof(rep->detail),
				 "a key change began at offset %llu, past the "
				 "end of the file",
				 (unsigned long long)pend);
			rc = IDW_ECORRUPT;
			goto out;
		}
		rep->rolled_back = true;
		rep->rolled_back_bytes = src->size - pend;
		lsrc.size = pend;
	}
	if ((rc = vault_ring_build(&lsrc, s, *keys, &ring, rep)) != 0)
		goto out;
	rep->key_links = (unsigned)(ring.n - 1);
	rc = vault_journal_replay_ring(&lsrc, s, &ring, c, cb, ctx, rep);
	vault_ring_free(&ring);
	if (rc != 0)
		goto out;
	if (rep->truncated_tail)
		snprintf(rep->detail, sizeof(rep->detail),
			 "torn final record: %llu bytes at offset %llu%s%.180s",
			 (unsigned long long)rep->truncated_bytes,
			 (unsigned long long)c->end, note[0] ? "; " : "", note);
out:
	if (rc != 0)
		vault_keys_free(keys);
	return rc;
}

int idw_vault_open(const char *path, struct idw_vault **out)
{
	uint8_t hdr[VAULT_HDR_SIZE];
	struct idw_vault *v;
	struct vault_src src;
	struct stat st;
	char why[256];
	int rc = 0;

	*out = NULL;
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return IDW_ENOMEM;
	v->fd = v->cfd = -1;
	vault_chain_reset(&v->j);
	if ((v->path = strdup(path)) == NULL) {
		rc = IDW_ENOMEM;
		goto out;
	}
	/* A vault reached through a link is refused (O_NOFOLLOW). */
	v->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (v->fd < 0 || fstat(v->fd, &st) != 0) {
		rc = errno_err(errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		rc = IDW_EPERM;
		goto out;
	}
	if (st.st_size == 0) {
		/* Perhaps just created: make its name last.  Best effort:
		 * an empty file holds nothing to lose. */
		(void)dir_fsync(path);
	} else {
		src = (struct vault_src){v->fd, NULL, (uint64_t)st.st_size};
		if ((rc = vault_src_read(&src, 0, hdr,
					 src.size < sizeof(hdr)
						 ? (size_t)src.size
						 : sizeof(hdr))) != 0 ||
		    (rc = vault_core_check(hdr, src.size, why, sizeof(why))) !=
			    0)
			goto out;
		memcpy(v->s.core, hdr, VAULT_CORE_SIZE);
		v->initialized = true;
	}
	*out = v;
	v = NULL;
out:
	idw_vault_close(v);
	return rc;
}

bool idw_vault_initialized(const struct idw_vault *v)
{
	return v->initialized;
}

int idw_vault_fd(const struct idw_vault *v)
{
	return v->fd;
}

bool idw_vault_unlocked(const struct idw_vault *v)
{
	return v->k != NULL;
}

const uint8_t *idw_vault_id(const struct idw_vault *v)
{
	return v->initialized ? v->s.core + 8 : NULL;
}

void idw_vault_id_hex(const struct idw_vault *v, char out[33])
{
	out[0] = '\0';
	if (v->initialized)
		sodium_bin2hex(out, 33, v->s.core + 8, IDW_VAULT_ID_LEN);
}

int idw_vault_init(struct idw_vault *v, const uint8_t *pass, size_t passlen,
		   enum idw_kdf_level kdf)
{
	uint8_t img[VAULT_JOURNAL_OFF];
	struct vault_keys *k = NULL;
	struct vault_slots s;
	struct stat st;
	int rc;

	if (v->initialized)
		return IDW_EEXIST;
	if (pass == NULL || passlen < 8)
		return IDW_EINVAL;
	if (fstat(v->fd, &st) != 0)
		return IDW_EIO;
	if (st.st_size != 0)
		return IDW_EEXIST;
	memset(img, 0, sizeof(img));
	vault_core_make(img);
	if ((rc = vault_slots_create(&s, img, pass, passlen, kdf, &k)) != 0)
		goto out;
	/* Both areas the same generation: A wins the tie, B is written
	 * next.  Either alone opens the vault. */
	vault_area_build(&s, k, img + VAULT_AREA_OFF(0));
	vault_area_build(&s, k, img + VAULT_AREA_OFF(1));
	if (idw_pwrite_all(v->fd, img, sizeof(img), 0) != 0 ||
	    fsync(v->fd) != 0) {
		if (ftruncate(v->fd, 0) != 0) {
			/* open() will call it corrupt: a person decides */
		}
		rc = IDW_EIO;
		goto out;
	}
	v->s = s;
	v->k = k;
	k = NULL;
	v->initialized = true;
	vault_chain_reset(&v->j);
out:
	vault_keys_free(&k);
	sodium_memzero(img, sizeof(img));
	return rc;
}

/* idw_vault_unlock and idw_vault_unlock_key. */
static int vault_unlock(struct idw_vault *v, const struct vault_cred *cred,
			idw_vault_rec_cb cb, void *ctx,
			struct idw_vault_report *rep)
{
	struct idw_vault_report dummy;
	struct vault_keys *k = NULL;
	struct vault_slots s;
	struct vault_chain c;
	struct stat st;
	struct vault_src src;
	int rc;

	if (rep == NULL)
		rep = &dummy;
	memset(rep, 0, sizeof(*rep));
	if (!v->initialized)
		return IDW_ENOVAULT;
	if (v->k != NULL)
		return IDW_EINVAL; /* a second replay would duplicate state */
	if (fstat(v->fd, &st) != 0)
		return IDW_EIO;
	src = (struct vault_src){v->fd, NULL, (uint64_t)st.st_size};
	if ((rc = vault_parse(&src, cred, cb, ctx, &s, &k, &c, rep)) != 0)
		goto out;
	if (memcmp(s.core, v->s.core, VAULT_CORE_SIZE) != 0) {
		snprintf(rep->detail, sizeof(rep->detail),
			 "the header changed since the vault was opened");
		rc = IDW_ECORRUPT;
		goto out;
	}
	if (rep->truncated_tail &&
	    (ftruncate(v->fd, (off_t)c.end) != 0 || fsync(v->fd) != 0)) {
		snprintf(rep->detail, sizeof(rep->detail),
			 "cannot cut the torn final record at offset %llu",
			 (unsigned long long)c.end);
		rc = IDW_EIO;
		goto out;
	}
	v->s = s;
	v->j = c;
	v->k = k;
	k = NULL;
	v->broken = false;
	if (rep->rolled_back && (rc = vault_pending_clear(v)) != 0) {
		snprintf(rep->detail, sizeof(rep->detail),
			 "cannot roll back the interrupted key change at "
			 "offset %llu",
			 (unsigned long long)vault_pending_off(&v->s));
		vault_keys_free(&v->k);
		vault_chain_reset(&v->j);
	}
out:
	vault_keys_free(&k);
	return rc;
}

/* Only keychain and token slots unlock with a key. */
static bool key_cred_ok(const struct vault_cred *cred,
			struct idw_vault_report *rep)
{
	if ((cred->type == IDW_SLOT_KEYCHAIN || cred->type == IDW_SLOT_TOKEN) &&
	    cred->id != NULL && cred->key != NULL)
		return true;
	if (rep != NULL)
		memset(rep, 0, sizeof(*rep));
	return false;
}

int idw_vault_unlock(struct idw_vault *v, const uint8_t *pass, size_t passlen,
		     idw_vault_rec_cb cb, void *ctx,
		     struct idw_vault_report *rep)
{
	struct vault_cred cred = {
		.type = IDW_SLOT_PASSPHRASE, .pass = pass, .passlen = passlen};

	return vault_unlock(v, &cred, cb, ctx, rep);
}

int idw_vault_unlock_key(struct idw_vault *v, uint8_t type, const char *slot_id,
			 const uint8_t key[32], idw_vault_rec_cb cb, void *ctx,
			 struct idw_vault_report *rep)
{
	struct vault_cred cred = {.type = type, .id = slot_id, .key = key};

	if (!key_cred_ok(&cred, rep))
		return IDW_EINVAL;
	return vault_unlock(v, &cred, cb, ctx, rep);
}

/* idw_vault_parse_image and idw_vault_parse_image_key. */
static int parse_image(const uint8_t *img, size_t len,
		       const struct vault_cred *cred, idw_vault_rec_cb cb,
		       void *ctx, struct idw_vault_report *rep)
{
	struct idw_vault_report dummy;
	struct vault_keys *k = NULL;
	struct vault_slots s;
	struct vault_chain c;
	struct vault_src src = {-1, img, len};
	int rc;

	if (rep == NULL)
		rep = &dummy;
	memset(rep, 0, sizeof(*rep));
	if (img == NULL && len != 0)
		return IDW_EINVAL;
	rc = vault_parse(&src, cred, cb, ctx, &s, &k, &c, rep);
	vault_keys_free(&k);
	return rc;
}

int idw_vault_parse_image(const uint8_t *img, size_t len, const uint8_t *pass,
			  size_t passlen, idw_vault_rec_cb cb, void *ctx,
			  struct idw_vault_report *rep)
{
	struct vault_cred cred = {
		.type = IDW_SLOT_PASSPHRASE, .pass = pass, .passlen = passlen};

	return parse_image(img, len, &cred, cb, ctx, rep);
}

int idw_vault_parse_image_key(const uint8_t *img, size_t len, uint8_t type,
			      const char *slot_id, const uint8_t key[32],
			      idw_vault_rec_cb cb, void *ctx,
			      struct idw_vault_report *rep)
{
	struct vault_cred cred = {.type = type, .id = slot_id, .key = key};

	if (!key_cred_ok(&cred, rep))
		return IDW_EINVAL;
	return parse_image(img, len, &cred, cb, ctx, rep);
}

int idw_vault_append(struct idw_vault *v, const struct idw_vault_rec *rec)
{
	uint8_t *buf = NULL;
	size_t n;
	int rc;

	if (!v->initialized)
		return IDW_ENOVAULT;
	if (v->k == NULL)
		return IDW_ELOCKED;
	if (v->broken)
		return IDW_EIO;
	/* Records appended during a compaction would vanish at commit. */
	if (v->cfd >= 0)
		return IDW_EINVAL;
	if ((rc = vault_rec_seal(&v->s, v->k, &v->j, rec, &buf, &n)) != 0)
		return rc;
	if (idw_pwrite_all(v->fd, buf, n, v->j.end) != 0 || fsync(v->fd) != 0) {
		/* Leave no half record behind.  If even that fails, refuse
		 * to go on: the next start cuts what is left as a torn
		 * tail. */
		if (ftruncate(v->fd, (off_t)v->j.end) != 0)
			v->broken = true;
		rc = IDW_EIO;
		goto out;
	}
	vault_chain_advance(&v->j, buf, n);
out:
	free(buf);
	return rc;
}

int idw_vault_compact_begin(struct idw_vault *v)
{
	uint8_t img[VAULT_JOURNAL_OFF];
	size_t plen;
	int rc;

	if (!v->initialized)
		return IDW_ENOVAULT;
	if (v->k == NULL)
		return IDW_ELOCKED;
	if (v->cfd >= 0)
		return IDW_EINVAL;
	plen = strlen(v->path) + sizeof(".tmp");
	if ((v->cpath = malloc(plen)) == NULL)
		return IDW_ENOMEM;
	snprintf(v->cpath, plen, "%s.tmp", v->path);
	v->cfd = open(v->cpath,
		      O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (v->cfd < 0 && errno == EEXIST) {
		/* Left by a crash mid-compaction; we hold agentd.lock, so it
		 * is ours and stale. */
		if (unlink(v->cpath) == 0)
			v->cfd = open(v->cpath,
				      O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
					      O_NOFOLLOW,
				      0600);
	}
	if (v->cfd < 0) {
		rc = errno_err(errno);
		free(v->cpath);
		v->cpath = NULL;
		return rc;
	}
	v->cbad = false;
	/*
	 * The same slot table, generation kept, both areas rebuilt: this
	 * also repairs an area that failed its checksum.  The new file is
	 * of this version's format (a migration) and wholly under the
	 * current key, so the state of key changes goes.
	 */
	vault_compact_slots(&v->s, &v->cs);
	memset(img, 0, sizeof(img));
	memcpy(img, v->cs.core, VAULT_CORE_SIZE);
	vault_area_build(&v->cs, v->k, img + VAULT_AREA_OFF(0));
	vault_area_build(&v->cs, v->k, img + VAULT_AREA_OFF(1));
	if ((rc = idw_pwrite_all(v->cfd, img, sizeof(img), 0)) != 0) {
		idw_vault_compact_abort(v);
		return rc;
	}
	vault_chain_reset(&v->cj);
	return 0;
}

int idw_vault_compact_put(struct idw_vault *v, const struct idw_vault_rec *rec)
{
	uint8_t *buf = NULL;
	size_t n;
	int rc;

	if (v->cfd < 0)
		return IDW_EINVAL;
	if (v->k == NULL)
		return IDW_ELOCKED;
	if ((rc = vault_rec_seal(&v->cs, v->k, &v->cj, rec, &buf, &n)) != 0)
		return rc;
	if ((rc = idw_pwrite_all(v->cfd, buf, n, v->cj.end)) != 0)
		v->cbad = true; /* commit must not install a partial file */
	else
		vault_chain_advance(&v->cj, buf, n);
	free(buf);
	return rc;
}

int idw_vault_compact_commit(struct idw_vault *v)
{
	int rc = 0;

	if (v->cfd < 0)
		return IDW_EINVAL;
	if (v->cbad || fsync(v->cfd) != 0 || rename(v->cpath, v->path) != 0) {
		idw_vault_compact_abort(v);
		return IDW_EIO;
	}
	close(v->fd);
	v->fd = v->cfd;
	v->cfd = -1;
	free(v->cpath);
	v->cpath = NULL;
	v->j = v->cj;
	v->s = v->cs;
	v->s.cur = 0;
	/* The new file is in place and in use; only the durability of the
	 * rename is in doubt when this fails. */
	if (dir_fsync(v->path) != 0)
		rc = IDW_EIO;
	return rc;
}

void idw_vault_compact_abort(struct idw_vault *v)
{
	if (v == NULL || v->cfd < 0)
		return;
	close(v->cfd);
	(void)unlink(v->cpath);
	free(v->cpath);
	v->cpath = NULL;
	v->cfd = -1;
	v->cbad = false;
}

uint64_t idw_vault_journal_size(const struct idw_vault *v)
{
	struct stat st;

	if (!v->initialized)
		return 0;
	if (v->k != NULL)
		return v->j.end - VAULT_JOURNAL_OFF;
	if (fstat(v->fd, &st) != 0 || (uint64_t)st.st_size < VAULT_JOURNAL_OFF)
		return 0;
	return (uint64_t)st.st_size - VAULT_JOURNAL_OFF;
}

void idw_vault_lock(struct idw_vault *v)
{
	idw_vault_compact_abort(v);
	vault_pending_forget(v);
	vault_keys_free(&v->k);
	vault_chain_reset(&v->j);
}

void idw_vault_close(struct idw_vault *v)
{
	if (v == NULL)
		return;
	idw_vault_lock(v);
	if (v->fd >= 0)
		close(v->fd);
	free(v->path);
	free(v);
}

int idw_vault_peek_id(const char *path, uint8_t id[IDW_VAULT_ID_LEN])
{
	char why[256];

	return idw_vault_peek(path, id, why, sizeof(why));
}

int idw_vault_peek(const char *path, uint8_t id[IDW_VAULT_ID_LEN], char *why,
		   size_t wl)
{
	uint8_t hdr[VAULT_HDR_SIZE];
	struct vault_src src;
	struct stat st;
	int fd, rc;

	snprintf(why, wl, "%s", "");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno_err(errno);
	if (fstat(fd, &st) != 0) {
		rc = IDW_EIO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = IDW_EPERM;
		goto out;
	}
	if (st.st_size == 0) {
		rc = IDW_ENOENT;
		goto out;
	}
	src = (struct vault_src){fd, NULL, (uint64_t)st.st_size};
	if ((rc = vault_src_read(&src, 0, hdr,
				 src.size < sizeof(hdr) ? (size_t)src.size
							: sizeof(hdr))) != 0 ||
	    (rc = vault_core_check(hdr, src.size, why, wl)) != 0)
		goto out;
	memcpy(id, hdr + 8, IDW_VAULT_ID_LEN);
out:
	close(fd);
	return rc;
}

unsigned idw_vault_format_major(const struct idw_vault *v)
{
	return v->initialized ? idw_le16_get(v->s.core + 4) : 0;
}

unsigned idw_vault_format_minor(const struct idw_vault *v)
{
	return v->initialized ? idw_le16_get(v->s.core + 6) : 0;
}

/* A new file beside the vault, O_EXCL: "<path><suffix>", then .1 .. .9. */
static int create_beside(const char *path, const char *suffix, char *out,
			 size_t outlen)
{
	int fd = -1;

	for (int i = 0; i < 10 && fd < 0; i++) {
		if (i == 0)
			snprintf(out, outlen, "%s%s", path, suffix);
		else
			snprintf(out, outlen, "%s%s.%d", path, suffix, i);
		fd = open(out,
			  O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			  0600);
		if (fd < 0 && errno != EEXIST)
			return -errno_err(errno);
	}
	return fd < 0 ? -IDW_EEXIST : fd;
}

int idw_vault_keep_copy(struct idw_vault *v, char *out, size_t outlen)
{
	char suffix[24];
	uint8_t buf[65536];
	struct stat st;
	uint64_t off = 0;
	ssize_t r;
	int fd, rc = 0;

	if (!v->initialized)
		return IDW_ENOVAULT;
	snprintf(suffix, sizeof(suffix), ".bak-v%u", idw_vault_format_major(v));
	if (fstat(v->fd, &st) != 0)
		return IDW_EIO;
	fd = create_beside(v->path, suffix, out, outlen);
	if (fd < 0)
		return -fd;
	while (off < (uint64_t)st.st_size) {
		r = pread(v->fd, buf, sizeof(buf), (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || idw_pwrite_all(fd, buf, (size_t)r, off) != 0) {
			rc = IDW_EIO;
			break;
		}
		off += (uint64_t)r;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = IDW_EIO;
	close(fd);
	if (rc == 0)
		rc = dir_fsync(v->path);
	else
		(void)unlink(out);
	return rc;
}
