#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Install what idw needs to build and run its tests on Debian 12.
# Idempotent and non-interactive: installs only what is missing (apt-get
# update only then), leaves an existing node alone, and runs 'npm ci' in
# tests/e2e when its lock file exists.  Run as root, or as a user with sudo.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

packages=(
	build-essential cmake pkg-config
	libsecret-1-dev libsodium-dev libcjson-dev libseccomp-dev libcmocka-dev
	clang libclang-rt-14-dev
	gnome-keyring libsecret-tools dbus-x11 libglib2.0-bin
	strace python3 ca-certificates git
)

say() {
	printf 'install-deps: %s\n' "$*"
}

run() {
	printf 'install-deps: + %s\n' "$*"
	"$@"
}

die() {
	printf 'install-deps: %s\n' "$*" >&2
	exit 1
}

if [ -r /etc/os-release ]; then
	# shellcheck disable=SC1091
	. /etc/os-release
	if [ "${ID:-}" != debian ] || [ "${VERSION_ID:-}" != 12 ]; then
		say "warning: written for Debian 12, this is ${PRETTY_NAME:-unknown}"
	fi
fi
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install the packages by hand: ${packages[*]}"

if [ "$(id -u)" -eq 0 ]; then
	as_root=()
elif command -v sudo >/dev/null 2>&1; then
	as_root=(sudo)
else
	die "not root and no sudo: run this script as root"
fi

# Debian's node is only a fallback: a newer node may already be here.
if command -v node >/dev/null 2>&1; then
	say "node $(node --version) found at $(command -v node): keeping it"
else
	packages+=(nodejs npm)
fi

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

missing=()
for p in "${packages[@]}"; do
	installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	say "all ${#packages[@]} packages already installed"
else
	say "missing: ${missing[*]}"
	run "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get update -q
	run "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

e2e="$root/tests/e2e"
if [ -f "$e2e/package-lock.json" ]; then
	command -v npm >/dev/null 2>&1 || die "node is here but npm is not: install npm for $(command -v node)"
	say "installing the end-to-end test packages in $e2e"
	(cd "$e2e" && run npm ci --no-audit --no-fund)
else
	say "no $e2e/package-lock.json yet: skipping npm ci"
fi
say "done"
