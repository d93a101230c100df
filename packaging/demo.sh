#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The main job on a throwaway vault: a real MCP client (the official SDK)
# talks to idw-mcp, which talks to idw-agentd.  Nothing outside a temporary
# directory is touched, and the agent is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${IDW_BIN:-$PWD/build/bin}
tmp=$(mktemp -d)
export IDW_HOME="$tmp/home" IDW_SOCKET="$tmp/agent.sock"
# A throwaway passphrase for a throwaway vault; real use: 'idw auth login'.
export IDW_PASSPHRASE="demo-passphrase-$$-$RANDOM"
cleanup() {
	"$bin/idw" agent stop >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "== idw init (throwaway vault in $IDW_HOME)"
"$bin/idw" init --kdf interactive
echo "== two passports"
openai=$(printf 'sk-demo-%s' "$RANDOM$RANDOM" |
	"$bin/idw" create --name "OpenAI Production" --type api-key \
		--platform openai --scope chat.completions)
github=$(printf 'ghp_demo_%s' "$RANDOM$RANDOM" |
	"$bin/idw" create --name "GitHub CI" --type api-key --platform github)
"$bin/idw" revoke "$github" --reason "rotated after the demo"
"$bin/idw" list
echo "== an MCP client talks to idw-mcp"
IDW_BIN="$bin" OPENAI_ID="$openai" GITHUB_ID="$github" \
	node tests/e2e/demo.mjs
