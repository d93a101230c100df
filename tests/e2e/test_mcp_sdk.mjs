// SPDX-License-Identifier: ISC
//
// idw-mcp end to end with the official MCP TypeScript SDK (v1, the
// handshake revisions): a real vault, a real agent, every tool and
// resource, logging at the level the client sets, pagination, approval by
// elicitation, a stuck agent (answered within IDW_MCP_TIMEOUT) and a lost
// one, and no credential value where it must not be.  Run by ctest with
// IDW_BIN (the build's bin directory) and IDW_SOURCE_DIR; needs `npm ci`
// in tests/e2e first (exit 77 otherwise).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
	chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SKIP = 77;
const here = dirname(fileURLToPath(import.meta.url));

if (!existsSync(join(here, 'node_modules', '@modelcontextprotocol', 'sdk'))) {
	console.log(`SKIP: ${join(here, 'node_modules')} is missing; run ` +
		`'npm ci' in ${here}`);
	process.exit(SKIP);
}
const bin = process.env.IDW_BIN;
if (!bin || !existsSync(join(bin, 'idw-mcp')) || !existsSync(join(bin, 'idw'))) {
	console.log('SKIP: IDW_BIN must name the build\'s bin directory ' +
		'(with idw and idw-mcp)');
	process.exit(SKIP);
}

const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } =
	await import('@modelcontextprotocol/sdk/client/stdio.js');
const { ElicitRequestSchema, LoggingMessageNotificationSchema, McpError } =
	await import('@modelcontextprotocol/sdk/types.js');

const tmp = mkdtempSync(join(tmpdir(), 'idw-e2e-'));
chmodSync(tmp, 0o700);
const home = join(tmp, 'home');
mkdirSync(home, { mode: 0o700 });
chmodSync(home, 0o700);

// A fixed, small environment: no session bus (so no keychain), the
// passphrase in IDW_PASSPHRASE, sanitizer options passed through.
const env = {
	PATH: process.env.PATH ?? '/usr/bin:/bin',
	HOME: tmp,
	IDW_HOME: home,
	IDW_SOCKET: join(tmp, 'agent.sock'),
	IDW_PASSPHRASE: 'e2e passphrase, not a secret',
};
for (const k of ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS']) {
	if (process.env[k] !== undefined)
		env[k] = process.env[k];
}

function idw(args, input = '') {
	const r = spawnSync(join(bin, 'idw'), args, {
		env, input, encoding: 'utf8', timeout: 60000,
	});
	assert.equal(r.status, 0,
		`idw ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
	return r.stdout;
}

function create(name, value) {
	const out = idw(['create', '--name', name, '--type', 'api-key',
		'--platform', 'openai'], value);
	const m = out.match(/pp_[0-9a-f]{16}/);
	assert.ok(m, `idw create printed no id: ${out}`);
	return m[0];
}

// Values with characters that JSON must escape, each with a random tag
// that is searched for wherever a value must not be.
function value(label) {
	const tag = `${label}${randomBytes(12).toString('hex')}`;
	return { tag, text: `sk-"${tag}"\\ new\nline \u00e9\u20ac\u{1f600} \t</x>` };
}

function parseText(result) {
	assert.equal(result.content[0].type, 'text');
	return JSON.parse(result.content[0].text);
}

function okResult(result) {
	assert.notEqual(result.isError, true,
		`tool error: ${result.content?.[0]?.text}`);
	assert.equal(result.structuredContent.success, true);
	assert.deepEqual(parseText(result), result.structuredContent);
	return result.structuredContent;
}

let client;
let mcpStderr = '';
let failed = false;
const others = [];

// Another client of its own idw-mcp, with extra environment.
async function connect(name, extraEnv = {}, opts = {}) {
	const t = new StdioClientTransport({
		command: join(bin, 'idw-mcp'), args: [],
		env: { ...env, ...extraEnv }, stderr: 'pipe',
	});
	t.stderr?.on('data', (d) => { mcpStderr += d.toString(); });
	const cl = new Client({ name, version: '1.0.0' },
		opts.capabilities ? { capabilities: opts.capabilities } : {});
	if (opts.onElicit)
		cl.setRequestHandler(ElicitRequestSchema, opts.onElicit);
	await cl.connect(t);
	others.push(cl);
	return cl;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

try {
	idw(['init', '--kdf', 'interactive']);
	const va = value('active');
	const vb = value('revoked');
	const vc = value('suspend');
	const a = create('OpenAI Production', va.text);
	const b = create('Old key', vb.text);
	const c = create('Spare key', vc.text);
	idw(['revoke', b, '--reason', 'test']);

	const transport = new StdioClientTransport({
		command: join(bin, 'idw-mcp'),
		args: [],
		env,
		stderr: 'pipe',
	});
	transport.stderr?.on('data', (d) => { mcpStderr += d.toString(); });
	client = new Client({ name: 'idw-e2e', version: '1.0.0' });
	const logs = [];
	client.setNotificationHandler(LoggingMessageNotificationSchema,
		(n) => { logs.push(n.params); });
	await client.connect(transport);
	assert.equal(client.getServerCapabilities().logging !== undefined,
		true);

	assert.equal(client.getServerVersion().name, 'idw-mcp');
	const caps = client.getServerCapabilities();
	assert.ok(caps.tools && caps.resources);
	assert.match(client.getInstructions(), /check_policy/);
	assert.match(client.getInstructions(), /purpose/);

	// Tools and their schemas.
	const { tools } = await client.listTools();
	const names = tools.map((t) => t.name).sort();
	assert.deepEqual(names, ['check_policy', 'get_credential',
		'list_passports', 'request_access', 'revoke_passport']);
	const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
	for (const t of tools) {
		assert.equal(t.inputSchema.type, 'object');
		assert.equal(t.outputSchema.type, 'object');
		assert.ok(t.title && t.description && t.annotations);
	}
	assert.ok(byName.get_credential.inputSchema.required.includes('purpose'));
	assert.equal(byName.list_passports.annotations.readOnlyHint, true);
	assert.equal(byName.check_policy.annotations.readOnlyHint, true);
	assert.equal(byName.get_credential.annotations.readOnlyHint, true);
	assert.equal(byName.revoke_passport.annotations.destructiveHint, true);

	// list_passports, with and without a filter.
	let s = okResult(await client.callTool({
		name: 'list_passports', arguments: {} }));
	const ids = s.passports.map((p) => p.id);
	for (const id of [a, b, c])
		assert.ok(ids.includes(id), `${id} not listed`);
	const pa = s.passports.find((p) => p.id === a);
	assert.equal(pa.name, 'OpenAI Production');
	assert.equal(pa.credential_type, 'api-key');
	assert.equal(pa.status, 'active');
	assert.deepEqual(pa.platforms, ['openai']);
	assert.equal(s.passports.find((p) => p.id === b).status, 'revoked');
	s = okResult(await client.callTool({ name: 'list_passports',
		arguments: { status: 'active', platform: 'openai' } }));
	assert.deepEqual(s.passports.map((p) => p.id).sort(), [a, c].sort());

	// After its first call to the agent, idw-mcp runs under its filter.
	if (transport.pid && existsSync(`/proc/${transport.pid}/status`)) {
		const st = readFileSync(`/proc/${transport.pid}/status`, 'utf8');
		assert.match(st, /^Seccomp:\s+2$/m);
		assert.match(st, /^NoNewPrivs:\s+1$/m);
	}

	// check_policy.
	s = okResult(await client.callTool({ name: 'check_policy',
		arguments: { passport_id: a, action: 'access' } }));
	assert.equal(s.allowed, true);
	assert.equal(s.effect, 'allow');
	assert.deepEqual(s.violations, []);
	const denied = await client.callTool({ name: 'check_policy',
		arguments: { passport_id: b } });
	if (!denied.isError)
		assert.equal(denied.structuredContent.allowed, false);

	// Logging at the level the client sets: none before, debug after.
	assert.equal(logs.length, 0);
	await client.setLoggingLevel('debug');
	okResult(await client.callTool({ name: 'check_policy',
		arguments: { passport_id: a } }));
	await sleep(50);
	assert.ok(logs.some((l) => l.logger === 'idw-mcp' &&
		l.level === 'debug' && /check_policy/.test(l.data)),
	JSON.stringify(logs));
	await client.setLoggingLevel('error');
	const seen = logs.length;
	okResult(await client.callTool({ name: 'check_policy',
		arguments: { passport_id: a } }));
	await sleep(50);
	assert.equal(logs.length, seen);

	// get_credential: the value, exactly, in both copies.
	const purpose = 'e2e: call the OpenAI API for the test';
	s = okResult(await client.callTool({ name: 'get_credential',
		arguments: { passport_id: a, purpose } }));
	assert.equal(s.credential, va.text);
	assert.equal(s.passport_name, 'OpenAI Production');
	let r = await client.callTool({ name: 'get_credential',
		arguments: { passport_id: b, purpose } });
	assert.equal(r.isError, true);
	assert.ok(!JSON.stringify(r).includes(vb.tag));
	// Invalid arguments are a tool error at 2025-11-25 (SEP-1303).
	r = await client.callTool({ name: 'get_credential',
		arguments: { passport_id: a } });
	assert.equal(r.isError, true);
	assert.match(r.content[0].text, /purpose/);
	await assert.rejects(client.callTool({ name: 'no_such_tool',
		arguments: {} }), (e) => e instanceof McpError && e.code === -32602);

	// request_access.
	s = okResult(await client.callTool({ name: 'request_access',
		arguments: { passport_id: a, purpose, scope: ['chat.completions'] } }));
	assert.equal(typeof s.approved, 'boolean');
	assert.equal(typeof s.status, 'string');
	if (s.approved)
		assert.equal(s.status, 'approved');

	// revoke_passport suspends and says how to confirm or undo.
	s = okResult(await client.callTool({ name: 'revoke_passport',
		arguments: { passport_id: c, reason: 'e2e: may be leaked' } }));
	assert.equal(s.passport_id, c);
	assert.equal(s.status, 'suspended');
	assert.ok(s.message.includes(`idw revoke ${c} --reason`));
	assert.ok(s.message.includes(`idw resume ${c}`));
	r = await client.callTool({ name: 'get_credential',
		arguments: { passport_id: c, purpose } });
	assert.equal(r.isError, true);
	s = okResult(await client.callTool({ name: 'list_passports',
		arguments: { status: 'suspended' } }));
	assert.deepEqual(s.passports.map((p) => p.id), [c]);

	// Resources.
	const { resourceTemplates } = await client.listResourceTemplates();
	assert.deepEqual(resourceTemplates.map((t) => t.uriTemplate).sort(),
		['audit://{passport_id}', 'passport://{id}']);
	const { resources } = await client.listResources();
	for (const id of [a, b, c])
		assert.ok(resources.some((x) => x.uri === `passport://${id}`));

	const texts = [];
	for (const id of [a, b, c]) {
		for (const uri of [`passport://${id}`, `audit://${id}`]) {
			const res = await client.readResource({ uri });
			assert.equal(res.contents[0].uri, uri);
			assert.equal(res.contents[0].mimeType, 'application/json');
			texts.push(res.contents[0].text);
		}
	}
	const meta = JSON.parse(texts[0]);
	assert.equal(meta.id, a);
	assert.equal(meta.name, 'OpenAI Production');
	const audit = JSON.parse(texts[1]);
	assert.ok(audit.entries.some((e) => e.action === 'access' &&
		e.purpose === purpose && e.result === 'allowed'),
		`no access entry in ${texts[1]}`);
	await assert.rejects(client.readResource({
		uri: 'passport://pp_0000000000000000' }),
		(e) => e instanceof McpError && e.code === -32002);

	// Pagination, with pages of two: tools and resources.
	const paged = await connect('idw-e2e-pages', { IDW_MCP_PAGE_SIZE: '2' });
	const pagedNames = [];
	let cursor;
	do {
		const pg = await paged.listTools(cursor ? { cursor } : {});
		assert.ok(pg.tools.length <= 2);
		pagedNames.push(...pg.tools.map((t) => t.name));
		cursor = pg.nextCursor;
	} while (cursor);
	assert.deepEqual(pagedNames.sort(), ['check_policy', 'get_credential',
		'list_passports', 'request_access', 'revoke_passport']);
	const uris = [];
	do {
		const pg = await paged.listResources(cursor ? { cursor } : {});
		uris.push(...pg.resources.map((r) => r.uri));
		cursor = pg.nextCursor;
	} while (cursor);
	assert.deepEqual(uris.sort(), [a, b, c].map((x) => `passport://${x}`)
		.sort());
	await assert.rejects(paged.listTools({ cursor: 'not-ours' }),
		(e) => e instanceof McpError && e.code === -32602);

	// Approval by the person, asked in the client when they allow it.
	idw(['config', 'set', 'approval.elicitation', 'on',
		'--passphrase-stdin'], `${env.IDW_PASSPHRASE}\n`);
	const priv = spawnSync(join(bin, 'idw'), ['create', '--name',
		'Privileged', '--type', 'api-key', '--visa', 'privilege'], {
		env, input: 'sk-privileged', encoding: 'utf8' })
		.stdout.match(/pp_[0-9a-f]{16}/)[0];
	const asked = [];
	const yes = await connect('idw-e2e-yes', {}, {
		capabilities: { elicitation: {} },
		onElicit: async (req) => {
			asked.push(req.params);
			return { action: 'accept', content: { approve: true } };
		},
	});
	s = okResult(await yes.callTool({ name: 'get_credential',
		arguments: { passport_id: priv, purpose } }));
	assert.equal(s.credential, 'sk-privileged');
	assert.match(asked[0].message, /Privileged/);
	// Without the capability: the exact command instead.
	const priv2 = spawnSync(join(bin, 'idw'), ['create', '--name',
		'Privileged 2', '--type', 'api-key', '--visa', 'privilege'], {
		env, input: 'sk-p2', encoding: 'utf8' })
		.stdout.match(/pp_[0-9a-f]{16}/)[0];
	r = await client.callTool({ name: 'get_credential',
		arguments: { passport_id: priv2, purpose } });
	assert.equal(r.isError, true);
	assert.match(r.content[0].text, /idw approve gr_[0-9a-f]{16}/);

	// No value in any resource, audit entry or log line.
	for (const v of [va, vb, vc]) {
		for (const t of texts) {
			assert.ok(!t.includes(v.tag), 'a value is in a resource');
			assert.ok(!t.includes(v.text));
		}
		assert.ok(!mcpStderr.includes(v.tag), 'a value is in the log');
		assert.ok(!JSON.stringify(logs).includes(v.tag),
			'a value is in a notifications/message');
	}

	// A stuck agent: the call is answered within IDW_MCP_TIMEOUT, and
	// once the agent runs again the next call goes through.
	const quick = await connect('idw-e2e-quick', { IDW_MCP_TIMEOUT: '1s' });
	okResult(await quick.callTool({ name: 'list_passports',
		arguments: {} }));
	const agentPid = JSON.parse(idw(['agent', 'status', '--json'])).pid;
	process.kill(agentPid, 'SIGSTOP');
	let t1 = Date.now();
	try {
		r = await quick.callTool({ name: 'list_passports', arguments: {} });
	} finally {
		process.kill(agentPid, 'SIGCONT');
	}
	assert.equal(r.isError, true);
	assert.match(r.content[0].text, /did not answer within 1000 ms/);
	assert.ok(Date.now() - t1 < 3000, `waited ${Date.now() - t1} ms`);
	t1 = Date.now();
	s = okResult(await quick.callTool({ name: 'check_policy',
		arguments: { passport_id: a } }));
	assert.equal(s.allowed, true);
	// The agent goes away: every call says so at once, and idw-mcp,
	// which cannot reconnect from inside its filter, keeps serving.
	idw(['agent', 'stop']);
	for (let i = 0; i < 2; i++) {
		const t0 = Date.now();
		r = await client.callTool({ name: 'list_passports', arguments: {} });
		assert.equal(r.isError, true);
		assert.match(r.content[0].text, /agent/);
		assert.ok(Date.now() - t0 < 2000, 'a lost agent is reported at once');
	}
	await client.ping();

	console.log('PASS: idw-mcp with @modelcontextprotocol/sdk: 5 tools, ' +
		'2 resource templates, values only where asked for, logging, ' +
		'pages, approval by elicitation, a stuck and a lost agent');
} catch (e) {
	failed = true;
	console.error('FAIL:', e);
	if (mcpStderr)
		console.error(`idw-mcp stderr:\n${mcpStderr}`);
} finally {
	for (const o of others)
		await o.close().catch(() => {});
	await client?.close().catch(() => {});
	spawnSync(join(bin, 'idw'), ['agent', 'stop'], { env, timeout: 10000 });
	rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
