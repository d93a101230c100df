// SPDX-License-Identifier: ISC
//
// idw-mcp driven by the MCP Inspector's command line
// (@modelcontextprotocol/inspector-cli, the version that runs on node 20):
// tools/list, tools/call, resources/list, resources/read and
// logging/setLevel, each a fresh idw-mcp process as the Inspector starts
// it.  Needs 'npm ci' in tests/e2e (exit 77 otherwise).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import {
	e2eDir, makeHome, needBin, needPackages,
} from './lib/harness.mjs';

needPackages('@modelcontextprotocol/inspector-cli');
const bin = needBin();
const cliDir = join(e2eDir, 'node_modules', '@modelcontextprotocol',
	'inspector-cli', 'build');
const h = makeHome(bin, 'inspector');

// The Inspector finds its own package.json from its working directory.
function inspect(...args) {
	const r = spawnSync(process.execPath,
		[join(cliDir, 'index.js'), join(bin, 'idw-mcp'), ...args], {
			cwd: cliDir, env: h.env, encoding: 'utf8', timeout: 60000,
		});
	assert.equal(r.status, 0,
		`inspector ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
	return JSON.parse(r.stdout);
}

let failed = false;
try {
	h.idw(['init', '--kdf', 'interactive']);
	const value = 'sk-inspector "q" \\ é';
	const id = h.create('Inspector key', [], value);

	const { tools } = inspect('--method', 'tools/list');
	assert.deepEqual(tools.map((t) => t.name).sort(), ['check_policy',
		'get_credential', 'list_passports', 'request_access',
		'revoke_passport']);
	for (const t of tools)
		assert.ok(t.title && t.outputSchema && t.annotations);

	let r = inspect('--method', 'tools/call', '--tool-name',
		'get_credential', '--tool-arg', `passport_id=${id}`,
		'purpose=inspector e2e');
	assert.notEqual(r.isError, true, JSON.stringify(r));
	assert.equal(r.structuredContent.credential, value);
	assert.equal(JSON.parse(r.content[0].text).credential, value);

	r = inspect('--method', 'tools/call', '--tool-name', 'check_policy',
		'--tool-arg', `passport_id=${id}`);
	assert.equal(r.structuredContent.allowed, true);

	r = inspect('--method', 'resources/list');
	assert.ok(r.resources.some((x) => x.uri === `passport://${id}`));
	r = inspect('--method', 'resources/read', '--uri', `passport://${id}`);
	assert.equal(r.contents[0].mimeType, 'application/json');
	assert.equal(JSON.parse(r.contents[0].text).name, 'Inspector key');
	assert.ok(!r.contents[0].text.includes('sk-inspector'));
	r = inspect('--method', 'resources/read', '--uri', `audit://${id}`);
	assert.ok(JSON.parse(r.contents[0].text).entries.some((e) =>
		e.purpose === 'inspector e2e'));

	r = inspect('--method', 'logging/setLevel', '--log-level', 'debug');
	assert.deepEqual(r, {});
	console.log('PASS: idw-mcp with @modelcontextprotocol/inspector-cli: ' +
		'tools/list, tools/call, resources/list, resources/read, ' +
		'logging/setLevel');
} catch (e) {
	failed = true;
	console.error('FAIL:', e);
} finally {
	h.cleanup();
}
process.exit(failed ? 1 : 0);
