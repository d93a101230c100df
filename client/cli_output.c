/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cli.h"
#include "common/escape.h"
#include "common/jsonu.h"

/* Everything printed here came from the vault: escape it all. */
char *cli_display(const char *s)
{
	struct idw_buf out;
	char *copy = NULL;

	idw_buf_init(&out, 8 * IDW_DISPLAY_MAX_CHARS + 16, 0);
	if (idw_escape_display(&out, s ? s : "") == 0)
		copy = strndup((const char *)out.d, out.len);
	idw_buf_free(&out);
	return copy;
}

int cli_print_json(const cJSON *j)
{
	char *text = cJSON_Print(j);

	if (text == NULL)
		return IDW_ENOMEM;
	printf("%s\n", text);
	cJSON_free(text);
	return 0;
}

int cli_write_value(const uint8_t *p, size_t n)
{
	static const uint8_t nl = '\n';
	const uint8_t *parts[2] = {p, &nl};
	size_t lens[2] = {n, 1};
	ssize_t w;

	if (fflush(stdout) != 0)
		return IDW_EIO;
	for (int i = 0; i < 2; i++) {
		const uint8_t *q = parts[i];
		size_t left = lens[i];

		while (left > 0) {
			w = write(STDOUT_FILENO, q, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return IDW_EIO;
			q += w;
			left -= (size_t)w;
		}
	}
	return 0;
}

/*
 * A field as plain text: strings as they are, string arrays joined with
 * ", ", numbers, booleans, "-" for null or absent.  NULL when out of
 * memory.
 */
static char *field_text(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key), *it;
	struct idw_buf b;
	char *s = NULL;
	int r = 0;

	if (cJSON_IsString(v))
		return strdup(v->valuestring[0] ? v->valuestring : "-");
	if (cJSON_IsBool(v))
		return strdup(cJSON_IsTrue(v) ? "yes" : "no");
	idw_buf_init(&b, 64 * 1024, 0);
	if (cJSON_IsNumber(v)) {
		r = idw_buf_printf(&b, "%.0f", v->valuedouble);
	} else if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(it, v)
		{
			if (r == 0 && it != v->child)
				r = idw_buf_put_str(&b, ", ");
			if (r == 0 && cJSON_IsString(it))
				r = idw_buf_put_str(&b, it->valuestring);
		}
	}
	if (r == 0 && b.len == 0)
		r = idw_buf_put_str(&b, "-");
	if (r == 0)
		s = strndup((const char *)b.d, b.len);
	idw_buf_free(&b);
	return s;
}

static char *field_display(const cJSON *o, const char *key)
{
	char *plain = field_text(o, key), *shown;

	if (plain == NULL)
		return NULL;
	shown = cli_display(plain);
	free(plain);
	return shown;
}

/* Characters on screen, near enough: UTF-8 lead bytes. */
static size_t screen_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

#define TABLE_COLS 6

struct table_col {
	const char *head;
	const char *key;
	size_t max; /* characters shown before cutting with "..." */
	bool date;  /* a time: show its date only */
};

static const struct table_col passport_cols[TABLE_COLS] = {
	{"ID", "id", 24, false},
	{"NAME", "name", 32, false},
	{"TYPE", "credential_type", 18, false},
	{"STATUS", "status", 10, false},
	{"PLATFORMS", "platforms", 32, false},
	{"VALID UNTIL", "valid_until", 10, true},
};

/* Cut s to max characters on screen, marking the cut. */
static void cut(char *s, size_t max)
{
	size_t n = 0;

	for (char *p = s; *p; p++) {
		if (((unsigned char)*p & 0xc0) == 0x80)
			continue;
		if (n == max) {
			if (max >= 3) {
				/* Step back three characters for "...". */
				char *q = p;
				for (int k = 0; k < 3; k++) {
					do
						q--;
					while (((unsigned char)*q & 0xc0) ==
					       0x80);
				}
				memcpy(q, "...", 4);
			} else {
				*p = '\0';
			}
			return;
		}
		n++;
	}
}

int cli_print_passports(const cJSON *list)
{
	size_t rows = (size_t)cJSON_GetArraySize(list), width[TABLE_COLS];
	char **cell;
	const cJSON *p;
	size_t i = 0;
	int r = 0;

	if (rows == 0)
		return 0;
	cell = calloc(rows * TABLE_COLS, sizeof(*cell));
	if (cell == NULL)
		return IDW_ENOMEM;
	for (int c = 0; c < TABLE_COLS; c++)
		width[c] = strlen(passport_cols[c].head);
	cJSON_ArrayForEach(p, list)
	{
		for (int c = 0; c < TABLE_COLS && r == 0; c++) {
			char *s = field_display(p, passport_cols[c].key);

			if (s == NULL) {
				r = IDW_ENOMEM;
				break;
			}
			if (passport_cols[c].date && strlen(s) > 10)
				s[10] = '\0';
			else
				cut(s, passport_cols[c].max);
			cell[i * TABLE_COLS + (size_t)c] = s;
			if (screen_width(s) > width[c])
				width[c] = screen_width(s);
		}
		i++;
	}
	for (size_t row = 0; r == 0 && row <= rows; row++) {
		for (int c = 0; c < TABLE_COLS; c++) {
			const char *s = row == 0 ? passport_cols[c].head
						 : cell[(row - 1) * TABLE_COLS +
							(size_t)c];
			size_t pad = width[c] - screen_width(s);

			if (c == TABLE_COLS - 1)
				printf("%s\n", s);
			else
				printf("%s%*s  ", s, (int)pad, "");
		}
	}
	for (i = 0; i < rows * TABLE_COLS; i++)
		free(cell[i]);
	free(cell);
	return r;
}

struct detail_row {
	const char *label;
	const char *obj; /* nested object, or NULL for the passport itself */
	const char *key;
};

static const struct detail_row passport_rows[] = {
	{"id", NULL, "id"},
	{"name", NULL, "name"},
	{"path", NULL, "path"},
	{"type", NULL, "credential_type"},
	{"status", NULL, "status"},
	{"visa", "visa", "type"},
	{"visa scope", "visa", "scope"},
	{"issued by", "visa", "issuing_authority"},
	{"platforms", NULL, "platforms"},
	{"agent", NULL, "agent_id"},
	{"owner", NULL, "human_owner"},
	{"valid from", NULL, "valid_from"},
	{"valid until", NULL, "valid_until"},
	{"tier", NULL, "access_tier"},
	{"reveal", NULL, "reveal"},
	{"tags", NULL, "tags"},
	{"notes", NULL, "notes"},
	{"revoked at", "revocation", "at"},
	{"revoked by", "revocation", "by"},
	{"revoke reason", "revocation", "reason"},
	{"suspended at", "suspension", "at"},
	{"suspended by", "suspension", "by"},
	{"suspend reason", "suspension", "reason"},
	{"created", NULL, "created_at"},
	{"updated", NULL, "updated_at"},
	{"value version", NULL, "value_version"},
};

static int print_rows(const cJSON *o, const struct detail_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const cJSON *src = o;
		char *s;

		if (rows[i].obj != NULL) {
			src = cJSON_GetObjectItemCaseSensitive(o, rows[i].obj);
			if (!cJSON_IsObject(src))
				continue;
		} else if (!cJSON_HasObjectItem(o, rows[i].key)) {
			continue;
		}
		if ((s = field_display(src, rows[i].key)) == NULL)
			return IDW_ENOMEM;
		printf("%-15s %s\n", rows[i].label, s);
		free(s);
	}
	return 0;
}

int cli_print_passport(const cJSON *p)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(p, "delegation");
	int r;

	r = print_rows(p, passport_rows,
		       sizeof(passport_rows) / sizeof(passport_rows[0]));
	if (r == 0 && cJSON_IsArray(d) && cJSON_GetArraySize(d) > 0)
		printf("%-15s %d hop(s)\n", "delegation",
		       cJSON_GetArraySize(d));
	return r;
}

static const struct detail_row status_rows[] = {
	{"pid", NULL, "pid"},
	{"version", NULL, "agent_version"},
	{"home", NULL, "home"},
	{"vault", NULL, "vault_id"},
	{"initialized", NULL, "initialized"},
	{"locked", NULL, "locked"},
	{"unlocked by", NULL, "unlock_source"},
	{"passports", NULL, "passports"},
	{"clients", NULL, "clients"},
	{"memory locked", NULL, "memory_locked"},
	{"VmLck (kB)", NULL, "vmlck_kb"},
	{"seccomp mode", NULL, "seccomp"},
	{"no_new_privs", NULL, "no_new_privs"},
	{"dumpable", NULL, "dumpable"},
	{"landlock", NULL, "landlock_detail"},
	{"audit log ok", NULL, "audit_ok"},
	{"audit error", NULL, "audit_error"},
	{"audit entries", NULL, "audit_entries"},
	{"audit held", NULL, "audit_held"},
	{"audit synced", NULL, "audit_synced"},
	{"checkpoint", NULL, "audit_checkpoint"},
	{"audit anchor", NULL, "audit_anchor"},
	{"audit damage", NULL, "audit_damage"},
};

int cli_print_status(const cJSON *st)
{
	int64_t left = idw_json_int(st, "idle_left_s", -1);
	int64_t idle = idw_json_int(st, "idle_timeout_s", -1);
	int r;

	r = print_rows(st, status_rows,
		       sizeof(status_rows) / sizeof(status_rows[0]));
	if (r == 0 && idle > 0 && left >= 0)
		printf("%-15s in %lldh%02lldm (timeout %lldh%02lldm)\n",
		       "idle exit", (long long)(left / 3600),
		       (long long)(left % 3600 / 60), (long long)(idle / 3600),
		       (long long)(idle % 3600 / 60));
	else if (r == 0 && idle == 0)
		printf("%-15s never\n", "idle exit");
	if (r == 0 && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(
			      st, "memory_locked")))
		printf("warning: secrets are held in memory that is not "
		       "locked (--allow-unlocked-memory); they may reach "
		       "swap\n");
	return r;
}
