// SPDX-License-Identifier: ISC
//
// `idw mcp wrap` end to end with the official MCP TypeScript SDK: another
// MCP server (env_server.mjs, ours) is pinned as a run profile with a
// `reveal: never` passport, `idw mcp wrap --client json` prints the
// config entry, and the SDK client starts exactly that command with
// exactly those arguments and environment.  The server gets its variable
// (the hash matches), its echo of the value comes back redacted, and the
// config text holds no value.  Run by ctest with IDW_BIN; needs `npm ci`
// in tests/e2e first (exit 77 otherwise).

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';

import {
	e2eDir, makeHome, needBin, needPackages, PASS,
} from './lib/harness.mjs';

needPackages('@modelcontextprotocol/sdk');
const bin = needBin();

const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } =
	await import('@modelcontextprotocol/sdk/client/stdio.js');

const h = makeHome(bin, 'wrap');
let client;
let stderr = '';
let failed = false;

try {
	h.idw(['init', '--kdf', 'interactive']);
	const value = `ghp_${randomBytes(16).toString('hex')}`;
	const id = h.create('GitHub token', ['--reveal', 'never'], value);

	// The model's route is closed: a 'never' passport is not revealed.
	const get = h.run(['get', id, '--purpose', 'look']);
	assert.equal(get.status, 3, get.stderr);
	assert.ok(!get.stdout.includes(value));

	const wrap = h.run(['mcp', 'wrap', '--name', 'github',
		'--env', `GITHUB_TOKEN=${id}`, '--client', 'json',
		'--passphrase-stdin', '--', 'node',
		join(e2eDir, 'env_server.mjs'), 'GITHUB_TOKEN'], `${PASS}\n`);
	assert.equal(wrap.status, 0, wrap.stderr);
	assert.ok(!wrap.stdout.includes(value), 'the config holds the value');
	assert.ok(!wrap.stderr.includes(value));
	const entry = JSON.parse(wrap.stdout).mcpServers.github;
	assert.equal(entry.command, join(bin, 'idw'));
	assert.deepEqual(entry.args, ['run', '--profile', 'github']);
	assert.equal(entry.env.IDW_HOME, h.env.IDW_HOME);

	// The Claude Code form names the same command.
	const cc = h.run(['mcp', 'wrap', '--name', 'github', '--replace',
		'--env', `GITHUB_TOKEN=${id}`, '--client', 'claude-code',
		'--passphrase-stdin', '--', 'node',
		join(e2eDir, 'env_server.mjs'), 'GITHUB_TOKEN'], `${PASS}\n`);
	assert.equal(cc.status, 0, cc.stderr);
	assert.match(cc.stdout, /^claude mcp add github .*-- \S+\/idw run --profile github\n$/);
	assert.ok(!cc.stdout.includes(value));

	// Exactly what the config says, as an MCP client would launch it.
	const transport = new StdioClientTransport({
		command: entry.command, args: entry.args, env: entry.env,
		stderr: 'pipe',
	});
	transport.stderr?.on('data', (d) => { stderr += d.toString(); });
	client = new Client({ name: 'idw-wrap-e2e', version: '1.0.0' });
	await client.connect(transport);

	const tools = (await client.listTools()).tools.map((t) => t.name);
	assert.deepEqual(tools.sort(), ['echo_secret', 'env_status']);

	const st = JSON.parse((await client.callTool({
		name: 'env_status', arguments: {},
	})).content[0].text);
	assert.equal(st.present, true, 'the server did not get its variable');
	assert.equal(st.sha256,
		createHash('sha256').update(value).digest('hex'));
	assert.deepEqual(st.idw_vars, [], 'IDW_* reached the server');

	const echo = (await client.callTool({
		name: 'echo_secret', arguments: {},
	})).content[0].text;
	assert.equal(echo, 'the value is <redacted:GITHUB_TOKEN>');

	// One audit entry for the launch, naming the profile's purpose.
	const audit = JSON.parse(h.idw(['audit', id, '--json', '--action',
		'access', '--result', 'allowed'])).entries;
	assert.equal(audit.length, 1, JSON.stringify(audit));
	assert.match(audit[0].purpose, /github/);
	assert.ok(!stderr.includes(value), 'the value reached stderr');
	console.log('ok   wrap: config without a value, server got its ' +
		'variable, echo redacted');
} catch (e) {
	failed = true;
	console.error(e);
	if (stderr)
		console.error(`server stderr:\n${stderr}`);
} finally {
	await client?.close().catch(() => {});
	h.cleanup();
}
process.exit(failed ? 1 : 0);
