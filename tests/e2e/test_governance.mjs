// SPDX-License-Identifier: ISC
//
// Governance end to end with the official MCP TypeScript SDK and the idw
// CLI on one vault: a privilege visa goes pending, `idw approve` makes a
// lease, get_credential succeeds until the lease ends and is refused
// again; the deny path; a wrong passphrase for approve exits 6 and the
// grant stays pending; revoke_passport suspends and `idw resume`
// restores; a token principal cannot use another principal's lease; the
// MCP and CLI paths give the same decision for every case of a table;
// and, when idw-mcp asks through elicitation, a client that accepts and
// one that declines.  Run by ctest with IDW_BIN and IDW_SOURCE_DIR; needs
// `npm ci` in tests/e2e first (exit 77 otherwise).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
	chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync,
	readFileSync, rmSync,
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
const { ElicitRequestSchema } =
	await import('@modelcontextprotocol/sdk/types.js');

const PASS = 'governance e2e passphrase';
const tmp = mkdtempSync(join(tmpdir(), 'idw-gov-'));
chmodSync(tmp, 0o700);
const home = join(tmp, 'home');
mkdirSync(home, { mode: 0o700 });

const env = {
	PATH: process.env.PATH ?? '/usr/bin:/bin',
	HOME: tmp,
	IDW_HOME: home,
	IDW_SOCKET: join(tmp, 'agent.sock'),
	IDW_PASSPHRASE: PASS,
	TZ: 'UTC',
};
for (const k of ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS']) {
	if (process.env[k] !== undefined)
		env[k] = process.env[k];
}

// idw with no terminal: a proof reads the passphrase from stdin only.
function run(args, input = '') {
	return spawnSync(join(bin, 'idw'), args, {
		env, input, encoding: 'utf8', timeout: 60000, detached: true,
	});
}
function idw(args, input = '') {
	const r = run(args, input);
	assert.equal(r.status, 0,
		`idw ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
	return r.stdout;
}
function proven(args, pass = PASS) {
	return run([...args, '--passphrase-stdin'], `${pass}\n`);
}
function provenOk(args) {
	const r = proven(args);
	assert.equal(r.status, 0, `idw ${args.join(' ')}: ${r.stderr}`);
	return r.stdout;
}
function create(name, extra = [], value = `sk-${name}`) {
	const m = idw(['create', '--name', name, '--type', 'api-key', ...extra],
		value).match(/pp_[0-9a-f]{16}/);
	assert.ok(m, `no id for ${name}`);
	return m[0];
}
function grants(status) {
	const all = JSON.parse(idw(['grants', '--json'])).grants;
	return status ? all.filter((g) => g.status === status) : all;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const clients = [];
let stderrs = '';
async function connect(name, extraEnv = {}, opts = {}) {
	const transport = new StdioClientTransport({
		command: join(bin, 'idw-mcp'), args: [],
		env: { ...env, ...extraEnv }, stderr: 'pipe',
	});
	transport.stderr?.on('data', (d) => { stderrs += d.toString(); });
	const client = new Client({ name, version: '1.0.0' },
		opts.capabilities ? { capabilities: opts.capabilities } : {});
	if (opts.onElicit)
		client.setRequestHandler(ElicitRequestSchema, opts.onElicit);
	await client.connect(transport);
	clients.push(client);
	return client;
}

async function getCred(client, id, purpose = 'e2e governance') {
	return client.callTool({ name: 'get_credential',
		arguments: { passport_id: id, purpose } });
}
function ok(result) {
	assert.notEqual(result.isError, true,
		`tool error: ${result.content?.[0]?.text}`);
	return result.structuredContent;
}
function errText(result) {
	assert.equal(result.isError, true,
		`expected a tool error, got ${JSON.stringify(result)}`);
	return result.content[0].text;
}
// The pending grant named in a refusal, with the exact command.
function pendingGrant(result) {
	const t = errText(result);
	assert.match(t, /pending/);
	const m = t.match(/gr_[0-9a-f]{16}/);
	assert.ok(m, `no grant id in: ${t}`);
	assert.ok(t.includes(`idw approve ${m[0]}`), `no command in: ${t}`);
	return m[0];
}

// What idw-mcp decides for a passport, as 'allowed' | 'pending' | 'denied'.
async function mcpOutcome(client, id) {
	const r = await getCred(client, id);
	if (!r.isError)
		return 'allowed';
	return /\(pending\)/.test(r.content[0].text) ? 'pending' : 'denied';
}
function cliOutcome(id) {
	const r = run(['get', id, '--purpose', 'e2e governance']);
	return { 0: 'allowed', 4: 'pending', 3: 'denied' }[r.status] ??
		`exit ${r.status}: ${r.stderr}`;
}

// Whether idw-mcp asks through elicitation (client/mcp_*.c says so).
function mcpElicits() {
	const src = process.env.IDW_SOURCE_DIR;
	if (!src || !existsSync(join(src, 'client')))
		return false;
	return readdirSync(join(src, 'client'))
		.filter((f) => f.startsWith('mcp_') && f.endsWith('.c'))
		.some((f) => readFileSync(join(src, 'client', f), 'utf8')
			.includes('elicitation/create'));
}

// A form answer that fills what the server asks with a yes.
function acceptAll(req) {
	const props = req.params.requestedSchema?.properties ?? {};
	const content = {};
	for (const [k, s] of Object.entries(props)) {
		if (s.type === 'boolean')
			content[k] = true;
		else if (s.type === 'string')
			content[k] = s.enum?.[0] ?? s.default ?? 'yes';
		else if (s.type === 'number' || s.type === 'integer')
			content[k] = s.default ?? s.minimum ?? 1;
	}
	return { action: 'accept', content };
}

let failed = false;
let elicitNote = '';
try {
	idw(['init', '--kdf', 'interactive']);
	const local = await connect('gov-local');

	// 1. privilege visa -> pending -> approve -> lease -> expiry.
	const priv = create('priv', ['--visa', 'privilege', '--path',
		'prod/pay', '--tier', 'sensitive']);
	let g = pendingGrant(await getCred(local, priv));
	let s = ok(await local.callTool({ name: 'request_access',
		arguments: { passport_id: priv, purpose: 'e2e governance',
			scope: [] } }));
	assert.equal(s.status, 'pending');
	assert.equal(s.approved, false);
	assert.equal(s.grant_id, g, 'the same request waits on one grant');
	s = ok(await local.callTool({ name: 'check_policy',
		arguments: { passport_id: priv } }));
	assert.equal(s.allowed, false);
	assert.equal(s.effect, 'require-approval');
	assert.deepEqual(s.violations.map((v) => v.rule),
		['privilege-visa-requires-approval']);
	// A wrong passphrase: exit 6, and the grant stays pending.
	let r = proven(['approve', g, '--ttl', '3s'], 'not the passphrase');
	assert.equal(r.status, 6, r.stderr);
	assert.deepEqual(grants('pending').map((x) => x.id), [g]);
	errText(await getCred(local, priv));
	r = proven(['approve', g, '--ttl', '3s']);
	assert.equal(r.status, 0, r.stderr);
	for (const w of [priv, 'prod/pay', 'sensitive', 'local',
		'e2e governance', '3s'])
		assert.ok(r.stdout.includes(w), `approve did not show ${w}`);
	s = ok(await getCred(local, priv));
	assert.equal(s.credential, 'sk-priv');
	s = ok(await local.callTool({ name: 'check_policy',
		arguments: { passport_id: priv } }));
	assert.equal(s.allowed, true);
	await sleep(3500);
	const g2 = pendingGrant(await getCred(local, priv));
	assert.notEqual(g2, g, 'an ended lease asks afresh');
	assert.equal(grants().find((x) => x.id === g).status, 'expired');

	// 2. The deny path.
	const priv2 = create('priv2', ['--visa', 'privilege']);
	const g3 = pendingGrant(await getCred(local, priv2));
	idw(['deny', g3, '--reason', 'not for this task']);
	let t = errText(await getCred(local, priv2));
	assert.match(t, /denied/);
	assert.ok(t.includes('not for this task'), t);
	s = ok(await local.callTool({ name: 'request_access',
		arguments: { passport_id: priv2, purpose: 'again' } }));
	assert.equal(s.status, 'denied');

	// 3. revoke_passport suspends; idw resume restores.
	const plain = create('plain');
	ok(await getCred(local, plain));
	s = ok(await local.callTool({ name: 'revoke_passport',
		arguments: { passport_id: plain, reason: 'may be leaked' } }));
	assert.equal(s.status, 'suspended');
	assert.ok(s.message.includes(`idw resume ${plain}`));
	assert.match(errText(await getCred(local, plain)), /suspended/);
	r = proven(['resume', plain], 'not the passphrase');
	assert.equal(r.status, 6);
	errText(await getCred(local, plain));
	await sleep(300);
	provenOk(['resume', plain]);
	assert.equal(ok(await getCred(local, plain)).credential, 'sk-plain');

	// 4. A token principal cannot use another principal's lease.
	const tokA = provenOk(['auth', 'token', 'create', '--label', 'agent-a',
		'--ttl', '1h']).trim();
	const tokB = provenOk(['auth', 'token', 'create', '--label', 'agent-b',
		'--ttl', '1h']).trim();
	const a = await connect('gov-a', { IDW_SESSION_TOKEN: tokA });
	const b = await connect('gov-b', { IDW_SESSION_TOKEN: tokB });
	const priv3 = create('priv3', ['--visa', 'privilege']);
	const ga = pendingGrant(await getCred(a, priv3));
	const pa = grants().find((x) => x.id === ga).principal;
	assert.match(pa, /^token:[0-9a-f]{12}$/);
	r = provenOk(['approve', ga, '--ttl', '5m']);
	assert.ok(r.includes(pa));
	assert.equal(ok(await getCred(a, priv3)).credential, 'sk-priv3');
	const gb = pendingGrant(await getCred(b, priv3));
	assert.notEqual(gb, ga);
	assert.equal(grants().find((x) => x.id === gb).principal.startsWith(
		'token:'), true);
	assert.notEqual(grants().find((x) => x.id === gb).principal, pa);
	pendingGrant(await getCred(local, priv3));
	// Bound by agent_id to a's principal: b and local are refused.
	const bound = create('bound', ['--agent', pa]);
	assert.equal(ok(await getCred(a, bound)).credential, 'sk-bound');
	assert.match(errText(await getCred(b, bound)), /denied/);

	// 5. The same decision from idw-mcp and idw for every case.
	const table = {
		allow: create('t-allow'),
		noOwner: create('t-noowner', ['--no-owner']),
		longValidity: create('t-long', ['--valid-until', '2099-12-31']),
		privilege: create('t-priv', ['--visa', 'privilege']),
		boundElsewhere: create('t-bound', ['--agent', 'token:000000000000']),
		suspended: create('t-susp'),
		revoked: create('t-rev'),
		tooDeep: create('t-deep', ['--scope', 'r']),
		critical: create('t-crit', ['--tier', 'critical']),
	};
	idw(['suspend', table.suspended]);
	idw(['revoke', table.revoked, '--reason', 'gone']);
	provenOk(['delegate', table.tooDeep, '--from', 'me', '--to', 'a',
		'--scope', 'r']);
	provenOk(['delegate', table.tooDeep, '--from', 'a', '--to', 'b',
		'--scope', 'r']);
	provenOk(['delegate', table.tooDeep, '--from', 'b', '--to', 'c',
		'--scope', 'r']);
	provenOk(['policy', 'disable', 'max-delegation-depth-3']);
	provenOk(['delegate', table.tooDeep, '--from', 'c', '--to', 'd',
		'--scope', 'r']);
	provenOk(['policy', 'enable', 'max-delegation-depth-3']);
	const want = {
		allow: 'allowed', noOwner: 'denied', longValidity: 'denied',
		privilege: 'pending', boundElsewhere: 'denied',
		suspended: 'denied', revoked: 'denied', tooDeep: 'denied',
		critical: 'allowed',
	};
	for (const [name, id] of Object.entries(table)) {
		const m = ok(await local.callTool({ name: 'check_policy',
			arguments: { passport_id: id } }));
		const cr = run(['check', id, '--json']);
		const c = JSON.parse(cr.stdout);
		assert.deepEqual({ allowed: m.allowed, effect: m.effect,
			violations: m.violations },
		{ allowed: c.allowed, effect: c.effect,
			violations: c.violations }, `check_policy differs: ${name}`);
		const viaMcp = await mcpOutcome(local, id);
		const viaCli = cliOutcome(id);
		assert.equal(viaMcp, want[name], `idw-mcp on ${name}`);
		assert.equal(viaCli, want[name], `idw on ${name}`);
		assert.equal(cr.status, { allowed: 0, pending: 4, denied: 3 }[
			want[name]], `idw check on ${name}`);
	}

	// 6. Elicitation, when idw-mcp asks.
	if (!mcpElicits()) {
		elicitNote = '; elicitation not tested: idw-mcp does not ask ' +
			'through elicitation/create yet';
	} else {
		provenOk(['config', 'set', 'approval.elicitation', 'on']);
		const asked = [];
		const yes = await connect('gov-yes', { IDW_SESSION_TOKEN: tokA }, {
			capabilities: { elicitation: {} },
			onElicit: async (req) => { asked.push(req); return acceptAll(req); },
		});
		const no = await connect('gov-no', { IDW_SESSION_TOKEN: tokB }, {
			capabilities: { elicitation: {} },
			onElicit: async () => ({ action: 'decline' }),
		});
		const p4 = create('p4', ['--visa', 'privilege']);
		assert.equal(ok(await getCred(yes, p4)).credential, 'sk-p4');
		assert.ok(asked.length > 0, 'the accepting client was never asked');
		const mine = grants().filter((x) => x.passport === p4);
		assert.equal(mine.length, 1);
		assert.equal(mine[0].status, 'approved');
		assert.equal(mine[0].via, 'elicitation');
		assert.equal(mine[0].principal, pa);
		errText(await getCred(no, p4));
		assert.ok(grants().some((x) => x.passport === p4 &&
			x.status === 'denied'));
		// Never for a critical passport.
		const crit = create('p5', ['--visa', 'privilege', '--tier',
			'critical']);
		asked.length = 0;
		pendingGrant(await getCred(yes, crit));
		assert.equal(asked.length, 0, 'asked about a critical passport');
	}

	console.log('PASS: governance with @modelcontextprotocol/sdk: approve, ' +
		`lease expiry, deny, resume, principals, ${
			Object.keys(table).length} table cases${elicitNote}`);
} catch (e) {
	failed = true;
	console.error('FAIL:', e);
	if (stderrs)
		console.error(`idw-mcp stderr:\n${stderrs}`);
} finally {
	for (const c of clients)
		await c.close().catch(() => {});
	spawnSync(join(bin, 'idw'), ['agent', 'stop'], { env, timeout: 10000 });
	rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
