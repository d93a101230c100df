/* SPDX-License-Identifier: ISC */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sandbox/arena.h"
#include "sandbox/shield.h"

struct idw_shielded {
	uint32_t len;
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	uint8_t ct[]; /* len + ABYTES */
};

static uint8_t *shield_key; /* in the arena */

int idw_shield_init(void)
{
	if (shield_key != NULL)
		return 0;
	shield_key =
		idw_arena_alloc(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
	if (shield_key == NULL)
		return IDW_ENOMEM;
	crypto_aead_xchacha20poly1305_ietf_keygen(shield_key);
	return 0;
}

void idw_shield_wipe_key(void)
{
	idw_arena_free(shield_key); /* wipes */
	shield_key = NULL;
}

int idw_shield(const uint8_t *v, size_t n, struct idw_shielded **out)
{
	struct idw_shielded *s;
	int r;

	*out = NULL;
	if (n > UINT32_MAX - crypto_aead_xchacha20poly1305_ietf_ABYTES)
		return IDW_ETOOBIG;
	if ((r = idw_shield_init()) != 0)
		return r;
	s = malloc(sizeof(*s) + n + crypto_aead_xchacha20poly1305_ietf_ABYTES);
	if (s == NULL)
		return IDW_ENOMEM;
	s->len = (uint32_t)n;
	randombytes_buf(s->nonce, sizeof(s->nonce));
	crypto_aead_xchacha20poly1305_ietf_encrypt(s->ct, NULL, v, n, NULL, 0,
						   NULL, s->nonce, shield_key);
	*out = s;
	return 0;
}

size_t idw_shielded_len(const struct idw_shielded *s)
{
	return s->len;
}

int idw_unshield(const struct idw_shielded *s, uint8_t *scratch, size_t cap)
{
	if (shield_key == NULL)
		return IDW_ELOCKED;
	if (cap < s->len)
		return IDW_ETOOBIG;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    scratch, NULL, NULL, s->ct,
		    s->len + crypto_aead_xchacha20poly1305_ietf_ABYTES, NULL, 0,
		    s->nonce, shield_key) != 0)
		return IDW_ECORRUPT;
	return 0;
}

void idw_shielded_free(struct idw_shielded *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s, sizeof(*s) + s->len +
				  crypto_aead_xchacha20poly1305_ietf_ABYTES);
	free(s);
}
