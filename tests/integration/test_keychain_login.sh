#!/bin/sh
# SPDX-License-Identifier: ISC
# The keychain unlock source against a real gnome-keyring in a private
# D-Bus session (skipped, exit 77, when the tools are missing).
here=$(dirname "$0")
exec sh "$here/../lib/keyring-session.sh" python3 "$here/keychain_login.py"
