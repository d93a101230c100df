// SPDX-License-Identifier: ISC
//
// The three ways people launch idw-mcp, each with the official MCP SDK as
// the client, exactly as a person would set them up:
//   1. `idw auth login` once, then an MCP config with no secret in it;
//   2. `idw auth token create --label mcp --ttl 720h` for a headless client;
//   3. packaging/idw-mcp-wrapper reading the token from a 0600 file.
// Runs inside tests/lib/keyring-session.sh (test_three_uses.sh) for use 1.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
	chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
if (!existsSync(join(here, 'node_modules', '@modelcontextprotocol', 'sdk'))) {
	console.log('SKIP: node_modules is missing; run npm ci in ' + here);
	process.exit(77);
}
const bin = process.env.IDW_BIN;
const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } =
	await import('@modelcontextprotocol/sdk/client/stdio.js');

const PASS = 'three uses passphrase';
const tmp = mkdtempSync(join(tmpdir(), 'idw-3uses-'));
chmodSync(tmp, 0o700);
const base = {
	PATH: process.env.PATH,
	HOME: tmp,
	IDW_HOME: join(tmp, 'home'),
	IDW_SOCKET: join(tmp, 'agent.sock'),
};
const bus = process.env.DBUS_SESSION_BUS_ADDRESS
	? { DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS }
	: {};

function idw(args, { input, env = {} } = {}) {
	const r = spawnSync(join(bin, 'idw'), args, {
		env: { ...base, ...bus, ...env }, input, encoding: 'utf8',
	});
	return r;
}
function ok(args, opts) {
	const r = idw(args, opts);
	assert.equal(r.status, 0, `idw ${args.join(' ')}: ${r.stderr}`);
	return r.stdout.trim();
}

// With the MCP config a person would paste: command, args, env.
async function withClient(command, env, fn) {
	const transport = new StdioClientTransport({
		command, args: [], env, stderr: 'pipe',
	});
	const client = new Client({ name: 'three-uses', version: '1.0.0' });
	await client.connect(transport);
	try {
		return await fn(client);
	} finally {
		await client.close();
	}
}
async function fetchValue(client, id) {
	const r = await client.callTool({
		name: 'get_credential',
		arguments: { passport_id: id, purpose: 'three uses' },
	});
	assert.ok(!r.isError, JSON.stringify(r));
	return r.structuredContent.credential;
}
function stop() {
	idw(['agent', 'stop'], { env: { IDW_PASSPHRASE: PASS } });
}

let failed = 0;
async function use(name, fn) {
	try {
		await fn();
		console.log(`ok   ${name}`);
	} catch (e) {
		failed++;
		console.log(`FAIL ${name}\n${e.stack}`);
	} finally {
		stop();
	}
}

try {
	ok(['init', '--kdf', 'interactive'], { env: { IDW_PASSPHRASE: PASS } });
	const id = ok(['create', '--name', 'OpenAI', '--type', 'api-key',
		'--platform', 'openai'], {
		input: 'sk-three-uses-value\n', env: { IDW_PASSPHRASE: PASS },
	});
	stop();

	await use('1 login once, then a config with no secret', async () => {
		if (!bus.DBUS_SESSION_BUS_ADDRESS) {
			throw new Error('no session bus: run through test_three_uses.sh');
		}
		ok(['auth', 'login', '--passphrase-stdin'], {
			input: PASS + '\n', env: { IDW_PASSPHRASE: PASS },
		});
		stop();
		const cfg = JSON.parse(ok(['mcp', 'config', '--client',
			'claude-desktop']));
		const srv = cfg.mcpServers.idw;
		assert.equal(srv.command, join(bin, 'idw-mcp'));
		assert.ok(!JSON.stringify(cfg).includes(PASS));
		const value = await withClient(srv.command,
			{ ...base, ...bus, ...srv.env },
			(c) => fetchValue(c, id));
		assert.equal(value, 'sk-three-uses-value');
		const st = JSON.parse(ok(['agent', 'status', '--json']));
		assert.equal(st.unlock_source, 'keychain');
	});

	await use('2 a session token for a headless client', async () => {
		const token = ok(['auth', 'token', 'create', '--label', 'mcp',
			'--ttl', '720h', '--passphrase-stdin'], {
			input: PASS + '\n', env: { IDW_PASSPHRASE: PASS },
		});
		assert.match(token, /^idwst_[A-Za-z0-9_-]{51}$/);
		stop();
		const value = await withClient(join(bin, 'idw-mcp'),
			{ ...base, IDW_SESSION_TOKEN: token },
			(c) => fetchValue(c, id));
		assert.equal(value, 'sk-three-uses-value');
		const st = JSON.parse(ok(['agent', 'status', '--json'],
			{ env: { IDW_SESSION_TOKEN: token } }));
		assert.equal(st.unlock_source, 'session-token');
		// the audit names the token's principal, never the token
		const audit = await withClient(join(bin, 'idw-mcp'),
			{ ...base, IDW_SESSION_TOKEN: token },
			(c) => c.readResource({ uri: `audit://${id}` }));
		const text = audit.contents[0].text;
		assert.match(text, /token:[0-9a-f]{12}/);
		assert.ok(!text.includes(token) && !text.includes(token.slice(6)));
		// revoked: it no longer opens the vault
		const list = JSON.parse(ok(['auth', 'token', 'list', '--json']));
		const tid = list.tokens.find((t) => t.label === 'mcp').id;
		ok(['auth', 'token', 'revoke', tid.slice(0, 6)]);
		stop();
		const r = await withClient(join(bin, 'idw-mcp'),
			{ ...base, IDW_SESSION_TOKEN: token },
			(c) => c.callTool({ name: 'list_passports', arguments: {} }));
		assert.ok(r.isError, JSON.stringify(r));
		assert.match(r.content[0].text, /revoked/);
	});

	await use('3 a wrapper script for production', async () => {
		const token = ok(['auth', 'token', 'create', '--label', 'prod',
			'--ttl', '24h', '--passphrase-stdin'], {
			input: PASS + '\n', env: { IDW_PASSPHRASE: PASS },
		});
		stop();
		const dir = join(tmp, 'cfg');
		mkdirSync(dir, { mode: 0o700 });
		const file = join(dir, 'mcp-token');
		writeFileSync(file, token + '\n', { mode: 0o600 });
		const cfg = JSON.parse(ok(['mcp', 'config', '--client', 'generic',
			'--wrapper']));
		const srv = cfg.mcpServers.idw;
		assert.equal(srv.command, join(bin, 'idw-mcp-wrapper'));
		const value = await withClient(srv.command,
			{ ...base, IDW_TOKEN_FILE: file },
			(c) => fetchValue(c, id));
		assert.equal(value, 'sk-three-uses-value');
		// a token file others can read is refused, with the reason
		chmodSync(file, 0o644);
		const r = spawnSync(srv.command, [], {
			env: { ...base, IDW_TOKEN_FILE: file }, encoding: 'utf8',
			input: '',
		});
		assert.equal(r.status, 5);
		assert.match(r.stderr, /chmod 600/);
	});
} finally {
	stop();
	rmSync(tmp, { recursive: true, force: true });
}
console.log(`${3 - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
