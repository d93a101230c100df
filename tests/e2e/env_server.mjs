// SPDX-License-Identifier: ISC
//
// A small MCP stdio server for test_wrap.mjs, standing in for "another MCP
// server that needs a credential" (GitHub, Slack, a database): it reports
// whether it got the variable named on its command line, with the
// variable's SHA-256, and, in a second tool, echoes the value itself so
// that `idw run`'s redaction shows in the client's result.
//
//   node env_server.mjs VARIABLE

import { createHash } from 'node:crypto';

const { Server } = await import('@modelcontextprotocol/sdk/server/index.js');
const { StdioServerTransport } =
	await import('@modelcontextprotocol/sdk/server/stdio.js');
const { CallToolRequestSchema, ListToolsRequestSchema } =
	await import('@modelcontextprotocol/sdk/types.js');

const name = process.argv[2] ?? 'TOKEN';
const text = (t) => ({ content: [{ type: 'text', text: t }] });

const server = new Server({ name: 'idw-test-env-server', version: '1.0.0' },
	{ capabilities: { tools: {} } });

server.setRequestHandler(ListToolsRequestSchema, async () => ({
	tools: [
		{
			name: 'env_status',
			description: `Whether ${name} is set, and its SHA-256`,
			inputSchema: { type: 'object', properties: {} },
		},
		{
			name: 'echo_secret',
			description: `Print ${name} itself (to show redaction)`,
			inputSchema: { type: 'object', properties: {} },
		},
	],
}));

server.setRequestHandler(CallToolRequestSchema, async (req) => {
	const v = process.env[name];
	if (req.params.name === 'env_status') {
		return text(JSON.stringify({
			variable: name,
			present: v !== undefined,
			sha256: v === undefined ? null
				: createHash('sha256').update(v).digest('hex'),
			idw_vars: Object.keys(process.env)
				.filter((k) => k.startsWith('IDW_')),
		}));
	}
	if (req.params.name === 'echo_secret')
		return text(`the value is ${v}`);
	return { isError: true, ...text(`no tool ${req.params.name}`) };
});

await server.connect(new StdioServerTransport());
