/* SPDX-License-Identifier: ISC */
#include <stddef.h>

#include "common/agentenv.h"

const char *const idw_agent_env[] = {
	"HOME",
	"IDW_HOME",
	"IDW_SOCKET",
	"XDG_RUNTIME_DIR",
	"XDG_DATA_HOME",
	"DBUS_SESSION_BUS_ADDRESS",
	"TZ",
	"LANG",
	"IDW_KEYCHAIN_TIMEOUT",
	"IDW_IDLE_TIMEOUT",
	/* the unlock variables, wiped and unset once read */
	"IDW_SESSION_TOKEN",
	"IDW_PASSPHRASE",
#ifdef IDW_SANITIZER_BUILD
	"ASAN_OPTIONS",
	"UBSAN_OPTIONS",
	"LSAN_OPTIONS",
#endif
	NULL,
};
