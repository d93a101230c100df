// SPDX-License-Identifier: ISC
//
// Preloaded (node --import) into @modelcontextprotocol/conformance 0.1.16:
// it imports fs.globSync, which node 20 lacks, for its tier-check command
// only.  The import alone would stop every command, so the package is
// given a fs module with a globSync that says so when called.
import { register } from 'node:module';

register('./node20-hooks.mjs', import.meta.url);
