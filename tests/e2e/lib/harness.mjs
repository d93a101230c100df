// SPDX-License-Identifier: ISC
//
// What the end-to-end tests of idw-mcp share: the skip rule (exit 77 with
// the reason when a package or a binary is missing), a private vault with
// its own agent, and the idw command line.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
	chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SKIP = 77;
export const e2eDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PASS = 'e2e passphrase, not a secret';

export function skip(why) {
	console.log(`SKIP: ${why}`);
	process.exit(SKIP);
}

// Each package this test needs, installed by 'npm ci' in tests/e2e.
export function needPackages(...names) {
	for (const n of names) {
		if (!existsSync(join(e2eDir, 'node_modules', ...n.split('/'),
			'package.json')))
			skip(`${n} is not installed: run 'npm ci' in ${e2eDir}`);
	}
}

export function needBin() {
	const bin = process.env.IDW_BIN;
	if (!bin || !existsSync(join(bin, 'idw-mcp')) ||
	    !existsSync(join(bin, 'idw')))
		skip('IDW_BIN must name the build\'s bin directory ' +
			'(with idw and idw-mcp)');
	return bin;
}

// A private home, socket and passphrase; no session bus, so no keychain.
export function makeHome(bin, prefix) {
	const tmp = mkdtempSync(join(tmpdir(), `idw-${prefix}-`));
	chmodSync(tmp, 0o700);
	const home = join(tmp, 'home');
	mkdirSync(home, { mode: 0o700 });
	const env = {
		PATH: process.env.PATH ?? '/usr/bin:/bin',
		HOME: tmp,
		IDW_HOME: home,
		IDW_SOCKET: join(tmp, 'agent.sock'),
		IDW_PASSPHRASE: PASS,
	};
	for (const k of ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS']) {
		if (process.env[k] !== undefined)
			env[k] = process.env[k];
	}
	const run = (args, input = '') => spawnSync(join(bin, 'idw'), args, {
		env, input, encoding: 'utf8', timeout: 60000, detached: true,
	});
	const idw = (args, input = '') => {
		const r = run(args, input);
		assert.equal(r.status, 0,
			`idw ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
		return r.stdout;
	};
	return {
		tmp, env, run, idw,
		proven: (args) => idw([...args, '--passphrase-stdin'], `${PASS}\n`),
		create(name, extra = [], value = `sk-${name}`) {
			const m = idw(['create', '--name', name, '--type', 'api-key',
				'--platform', 'openai', ...extra], value)
				.match(/pp_[0-9a-f]{16}/);
			assert.ok(m, `idw create printed no id for ${name}`);
			return m[0];
		},
		agentPid() {
			return JSON.parse(idw(['agent', 'status', '--json'])).pid;
		},
		cleanup() {
			spawnSync(join(bin, 'idw'), ['agent', 'stop'], {
				env, timeout: 10000,
			});
			rmSync(tmp, { recursive: true, force: true });
		},
	};
}

// The text of a tool result, parsed, and its structuredContent.
export function okResult(result) {
	assert.notEqual(result.isError, true,
		`tool error: ${result.content?.[0]?.text}`);
	assert.equal(result.structuredContent.success, true);
	assert.deepEqual(JSON.parse(result.content[0].text),
		result.structuredContent);
	return result.structuredContent;
}

export function errText(result) {
	assert.equal(result.isError, true,
		`expected a tool error, got ${JSON.stringify(result)}`);
	return result.content[0].text;
}
