// SPDX-License-Identifier: ISC
// node:fs, plus the globSync of node 22 as a function that refuses.
import fs from 'node:fs';

export * from 'node:fs';
export default fs;
export function globSync() {
	throw new Error('fs.globSync needs node 22; not available here');
}
