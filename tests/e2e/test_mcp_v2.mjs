// SPDX-License-Identifier: ISC
//
// idw-mcp with the official TypeScript SDK v2 client, speaking the
// stateless 2026-07-28 revision: no handshake, _meta on every request,
// server/discover, resultType, cache hints, pagination, every tool and
// resource, and an approval asked through the input_required round trip.
// Run by ctest with IDW_BIN and IDW_SOURCE_DIR; needs 'npm ci' in
// tests/e2e (exit 77 otherwise).

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
	errText, makeHome, needBin, needPackages, okResult,
} from './lib/harness.mjs';

needPackages('@modelcontextprotocol/client');
const bin = needBin();
const { Client, ProtocolError } = await import('@modelcontextprotocol/client');
const { StdioClientTransport } =
	await import('@modelcontextprotocol/client/stdio');

const h = makeHome(bin, 'v2');
let stderr = '';
const clients = [];

async function connect(name, { mode = { pin: '2026-07-28' }, caps = {},
	onElicit = null, env = {} } = {}) {
	const transport = new StdioClientTransport({
		command: join(bin, 'idw-mcp'), args: [],
		env: { ...h.env, IDW_MCP_PAGE_SIZE: '2', ...env }, stderr: 'pipe',
	});
	transport.stderr?.on('data', (d) => { stderr += d.toString(); });
	const client = new Client({ name, version: '2.0.0' }, {
		capabilities: caps, versionNegotiation: { mode },
	});
	if (onElicit)
		client.setRequestHandler('elicitation/create', onElicit);
	await client.connect(transport);
	clients.push({ client, transport });
	return client;
}

let failed = false;
try {
	h.idw(['init', '--kdf', 'interactive']);
	const value = 'sk-v2 "quoted" \\ é€😀\n<end>';
	const a = h.create('OpenAI Production', [], value);
	const b = h.create('Spare key');
	// Enough passports for resources/list to need several pages.
	for (let i = 0; i < 5; i++)
		h.create(`filler ${i}`);
	const purpose = 'e2e v2: call the API for the test';

	const c = await connect('idw-e2e-v2');
	assert.equal(c.getProtocolEra(), 'modern');
	const disc = c.getDiscoverResult();
	assert.deepEqual(disc.supportedVersions, ['2026-07-28']);
	assert.ok(disc.capabilities.tools && disc.capabilities.resources);
	assert.match(disc.instructions, /check_policy/);
	assert.equal(disc.cacheScope, 'public');
	assert.equal(c.getServerVersion().name, 'idw-mcp');

	// tools/list: three pages of two, one list, every definition whole.
	const { tools } = await c.listTools();
	assert.deepEqual(tools.map((t) => t.name), ['list_passports',
		'get_credential', 'request_access', 'check_policy',
		'revoke_passport']);
	for (const t of tools) {
		assert.ok(t.title && t.description && t.annotations);
		assert.equal(t.inputSchema.type, 'object');
		assert.equal(t.outputSchema.type, 'object');
	}
	const page = await c.listTools({ cursor: 'tools:2' });
	assert.deepEqual(page.tools.map((t) => t.name),
		['request_access', 'check_policy']);
	assert.equal(page.nextCursor, 'tools:4');
	assert.equal(page.cacheScope, 'public');
	assert.ok(page.ttlMs > 0);

	// Every tool.
	let s = okResult(await c.callTool({ name: 'list_passports',
		arguments: { status: 'active' } }));
	assert.ok(s.passports.some((p) => p.id === a));
	s = okResult(await c.callTool({ name: 'check_policy',
		arguments: { passport_id: a } }));
	assert.equal(s.allowed, true);
	s = okResult(await c.callTool({ name: 'get_credential',
		arguments: { passport_id: a, purpose } }));
	assert.equal(s.credential, value);
	s = okResult(await c.callTool({ name: 'request_access',
		arguments: { passport_id: a, purpose, scope: [] } }));
	assert.equal(s.approved, true);
	s = okResult(await c.callTool({ name: 'revoke_passport',
		arguments: { passport_id: b, reason: 'e2e v2' } }));
	assert.equal(s.status, 'suspended');
	assert.match(errText(await c.callTool({ name: 'get_credential',
		arguments: { passport_id: b, purpose } })), /suspended|denied/);
	// Invalid arguments: a tool error the model can read.
	assert.match(errText(await c.callTool({ name: 'get_credential',
		arguments: { passport_id: a } })), /purpose/);

	// Resources: several pages of passports, both templates, reads.
	const { resources } = await c.listResources();
	assert.equal(resources.length, 7);
	for (const id of [a, b])
		assert.ok(resources.some((r) => r.uri === `passport://${id}`));
	const { resourceTemplates } = await c.listResourceTemplates();
	assert.deepEqual(resourceTemplates.map((t) => t.uriTemplate).sort(),
		['audit://{passport_id}', 'passport://{id}']);
	let res = await c.readResource({ uri: `passport://${a}` });
	assert.equal(JSON.parse(res.contents[0].text).id, a);
	assert.ok(!res.contents[0].text.includes('sk-v2'));
	res = await c.readResource({ uri: `audit://${a}` });
	assert.ok(JSON.parse(res.contents[0].text).entries.some((e) =>
		e.action === 'access' && e.purpose === purpose));
	await assert.rejects(c.readResource({
		uri: 'passport://pp_0000000000000000' }),
	(e) => e instanceof ProtocolError && e.code === -32602);

	// 'auto' probes with server/discover and stays modern.
	const auto = await connect('idw-e2e-v2-auto', { mode: 'auto' });
	assert.equal(auto.getProtocolEra(), 'modern');
	okResult(await auto.callTool({ name: 'list_passports', arguments: {} }));
	// The v2 client in its default mode speaks 2025-11-25 to the same
	// binary.
	const legacy = await connect('idw-e2e-v2-legacy', { mode: 'legacy' });
	assert.equal(legacy.getProtocolEra(), 'legacy');
	assert.equal(legacy.getNegotiatedProtocolVersion(), '2025-11-25');
	okResult(await legacy.callTool({ name: 'list_passports',
		arguments: {} }));

	// Approval through input_required, once the person allows it.
	h.proven(['config', 'set', 'approval.elicitation', 'on']);
	const priv = h.create('privileged', ['--visa', 'privilege'], 'sk-priv');
	const asked = [];
	const yes = await connect('idw-e2e-v2-yes', {
		caps: { elicitation: {} },
		onElicit: async (req) => {
			asked.push(req.params);
			return { action: 'accept', content: { approve: true } };
		},
	});
	s = okResult(await yes.callTool({ name: 'get_credential',
		arguments: { passport_id: priv, purpose } }));
	assert.equal(s.credential, 'sk-priv');
	assert.equal(asked.length, 1);
	assert.match(asked[0].message, /privileged/);
	assert.match(asked[0].message, /gr_[0-9a-f]{16}/);
	assert.equal(asked[0].requestedSchema.properties.approve.type,
		'boolean');
	const priv2 = h.create('privileged 2', ['--visa', 'privilege']);
	const no = await connect('idw-e2e-v2-no', {
		caps: { elicitation: {} },
		onElicit: async () => ({ action: 'decline' }),
	});
	assert.match(errText(await no.callTool({ name: 'get_credential',
		arguments: { passport_id: priv2, purpose } })), /declined/);
	// A client that cannot be asked is told the command.
	const priv3 = h.create('privileged 3', ['--visa', 'privilege']);
	const t = errText(await c.callTool({ name: 'get_credential',
		arguments: { passport_id: priv3, purpose } }));
	assert.match(t, /idw approve gr_[0-9a-f]{16}/);

	// No value in the log.
	assert.ok(!stderr.includes('sk-v2') && !stderr.includes('sk-priv'));

	// stdin closed: the process is gone at once.
	const pid = clients[0].transport.pid;
	await clients[0].client.close();
	const t0 = Date.now();
	while (existsSync(`/proc/${pid}`) && Date.now() - t0 < 2000)
		await new Promise((r) => setTimeout(r, 10));
	assert.ok(!existsSync(`/proc/${pid}/status`) ||
		/State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8')),
	'idw-mcp outlived its stdin');
	console.log('PASS: idw-mcp with @modelcontextprotocol/client ' +
		'(2026-07-28): discover, 5 tools over 3 pages, 7 resources over ' +
		'4 pages, input_required approval');
} catch (e) {
	failed = true;
	console.error('FAIL:', e);
	if (stderr)
		console.error(`idw-mcp stderr:\n${stderr}`);
} finally {
	for (const { client } of clients)
		await client.close().catch(() => {});
	h.cleanup();
}
process.exit(failed ? 1 : 0);
