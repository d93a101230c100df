/* SPDX-License-Identifier: ISC */
/*
 * The session token parser on arbitrary bytes, as the agent runs it on
 * IDW_SESSION_TOKEN or a token sent by a client, with and without the
 * vault id.  A token read is exactly the canonical text of what was read
 * (so no two texts give one token), its id is that of its secret, and a
 * refusal leaves the struct zeroed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keychain/token.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The vault id the seeds were made for. */
static const uint8_t vid[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
				0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00};

static int is_zero(const struct token *t)
{
	static const struct token zero;

	return memcmp(t, &zero, sizeof(*t)) == 0;
}

/* The documented text of a token, built here from its parts. */
static void text_of(const struct token *t, char text[TOKEN_TEXT_MAX])
{
	uint8_t raw[TOKEN_TAG_LEN + TOKEN_SECRET_LEN + 2];
	const size_t plen = sizeof(TOKEN_PREFIX) - 1;
	unsigned crc = 0xffff;

	memcpy(raw, t->tag, TOKEN_TAG_LEN);
	memcpy(raw + TOKEN_TAG_LEN, t->secret, TOKEN_SECRET_LEN);
	/* CRC-16/CCITT-FALSE, bit by bit, big-endian */
	for (size_t i = 0; i < TOKEN_TAG_LEN + TOKEN_SECRET_LEN; i++)
		for (int b = 7; b >= 0; b--) {
			unsigned bit = ((raw[i] >> b) & 1) ^ (crc >> 15);

			crc = ((crc << 1) & 0xffff) ^ (bit ? 0x1021 : 0);
		}
	raw[TOKEN_TAG_LEN + TOKEN_SECRET_LEN] = (uint8_t)(crc >> 8);
	raw[TOKEN_TAG_LEN + TOKEN_SECRET_LEN + 1] = (uint8_t)crc;
	memcpy(text, TOKEN_PREFIX, plen);
	sodium_bin2base64(text + plen, TOKEN_TEXT_MAX - plen, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void check_read(const uint8_t *data, size_t size, const struct token *t)
{
	char text[TOKEN_TEXT_MAX], id[TOKEN_ID_LEN + 1];
	size_t n;

	text_of(t, text);
	n = strlen(text);
	if (size < n || memcmp(data, text, n) != 0)
		abort();
	for (; n < size; n++)
		if (data[n] != '\n' && data[n] != '\r' && data[n] != ' ')
			abort();
	token_id_of(t->secret, id);
	if (strcmp(id, t->id) != 0)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return sodium_init() < 0 ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct token any, ours;
	uint8_t tag[TOKEN_TAG_LEN];
	char why[256];
	int r1, r2;

	memset(&any, 0xa5, sizeof(any));
	memset(&ours, 0xa5, sizeof(ours));
	why[0] = '\0';
	r1 = token_parse((const char *)data, size, NULL, &any, why,
			 sizeof(why));
	if (memchr(why, '\0', sizeof(why)) == NULL)
		abort();
	if (r1 == 0)
		check_read(data, size, &any);
	else if (r1 != IDW_EINVAL || !is_zero(&any) || why[0] == '\0')
		abort();

	why[0] = '\0';
	r2 = token_parse((const char *)data, size, vid, &ours, why,
			 sizeof(why));
	if (memchr(why, '\0', sizeof(why)) == NULL)
		abort();
	if (r2 == 0) {
		/* The vault check only narrows what is read. */
		token_vault_tag(vid, tag);
		if (r1 != 0 || memcmp(&ours, &any, sizeof(ours)) != 0 ||
		    memcmp(ours.tag, tag, TOKEN_TAG_LEN) != 0)
			abort();
	} else if (!is_zero(&ours) || why[0] == '\0') {
		abort();
	} else if (r2 == IDW_EPERM) {
		/* Another vault's token: read without the vault id, named. */
		if (r1 != 0 || strstr(why, any.id) == NULL)
			abort();
	} else if (r2 != IDW_EINVAL || r1 == 0) {
		abort();
	}
	sodium_memzero(&any, sizeof(any));
	sodium_memzero(&ours, sizeof(ours));
	return 0;
}
