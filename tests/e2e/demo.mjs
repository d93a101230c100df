// SPDX-License-Identifier: ISC
// The README's first command ends here: an MCP client lists passports,
// checks policy, fetches a credential with a purpose and is refused a
// revoked one.  Run by packaging/demo.sh.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const bin = process.env.IDW_BIN;
const env = {};
for (const k of ["PATH", "HOME", "IDW_HOME", "IDW_SOCKET", "IDW_PASSPHRASE"])
  if (process.env[k] !== undefined) env[k] = process.env[k];

const transport = new StdioClientTransport({
  command: `${bin}/idw-mcp`,
  args: [],
  env,
  stderr: "inherit",
});
const client = new Client({ name: "idw-demo", version: "0.1.0" });
await client.connect(transport);
const show = (label, r) =>
  console.log(`${label}:\n  ${JSON.stringify(r.structuredContent ?? r)}`);

const tools = await client.listTools();
console.log(`tools: ${tools.tools.map((t) => t.name).join(", ")}`);
show("list_passports", await client.callTool({ name: "list_passports", arguments: {} }));
show("check_policy", await client.callTool({
  name: "check_policy",
  arguments: { passport_id: process.env.OPENAI_ID, action: "access" },
}));
const got = await client.callTool({
  name: "get_credential",
  arguments: { passport_id: process.env.OPENAI_ID, purpose: "Summarise the weekly report" },
});
if (got.isError) throw new Error(`get_credential failed: ${got.content[0].text}`);
console.log(`get_credential: got ${got.structuredContent.credential.length} characters for ` +
  `"${got.structuredContent.passport_name}" (value not shown)`);
const refused = await client.callTool({
  name: "get_credential",
  arguments: { passport_id: process.env.GITHUB_ID, purpose: "Push a release" },
});
if (!refused.isError) throw new Error("a revoked passport was released");
console.log(`get_credential on the revoked passport: refused: ${refused.content[0].text}`);
await client.close();
console.log("demo: ok");
