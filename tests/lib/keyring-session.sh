#!/bin/sh
# SPDX-License-Identifier: ISC
# Run a command inside a private D-Bus session with an unlocked
# gnome-keyring, so keychain tests never touch a person's real keyring.
# Exits 77 (skipped) when the tools are missing.
set -eu
for t in dbus-run-session gnome-keyring-daemon gdbus; do
	command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t is not installed"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp" XDG_DATA_HOME="$tmp/data" XDG_CACHE_HOME="$tmp/cache" \
	XDG_CONFIG_HOME="$tmp/config"
unset DISPLAY XDG_RUNTIME_DIR || true
exec dbus-run-session -- sh -c '
	printf %s keyring-test-pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
	gdbus wait --session --timeout 10 org.freedesktop.secrets
	exec "$@"' sh "$@"
