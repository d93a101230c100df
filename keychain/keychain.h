/* SPDX-License-Identifier: ISC */
#ifndef IDW_KEYCHAIN_H
#define IDW_KEYCHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * The OS keychain, reached only through idw-keychain-helper: exec'd with
 * an empty environment but the session-bus variables, answering one line
 * on a pipe, killed when it does not answer within the timeout
 * (IDW_KEYCHAIN_TIMEOUT, default 2 s).  Nothing of the caller's memory
 * reaches GLib.
 */
#define KC_KEY_LEN 32
#define KC_DEFAULT_TIMEOUT_MS 2000

/* The timeout from IDW_KEYCHAIN_TIMEOUT ("N{s,m}" or milliseconds). */
int kc_timeout_ms(void);

/* True when a session bus can be reached at all (else skip at once). */
int kc_bus_present(void);

/*
 * Look up the machine key of a vault (32 lowercase hex digits of its id)
 * into key (caller's locked memory).  IDW_ENOENT: no bus or no item (why
 * says which); IDW_EUNLOCK: the keychain failed or did not answer in time.
 */
int kc_lookup(const char *vault_hex, uint8_t key[KC_KEY_LEN], char *why,
	      size_t whylen) IDW_WUR;
int kc_store(const char *vault_hex, const uint8_t key[KC_KEY_LEN], char *why,
	     size_t whylen) IDW_WUR;
int kc_delete(const char *vault_hex, char *why, size_t whylen) IDW_WUR;

#endif
