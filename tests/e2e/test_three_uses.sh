#!/bin/sh
# SPDX-License-Identifier: ISC
# The three launch modes of idw-mcp with the official SDK, inside a
# private keyring session (use 1 needs a keychain).
here=$(dirname "$0")
exec sh "$here/../lib/keyring-session.sh" node "$here/three_uses.mjs"
