// SPDX-License-Identifier: ISC
// The module resolution hook of node20.mjs.
export async function resolve(specifier, context, next) {
	if ((specifier === 'fs' || specifier === 'node:fs') &&
	    context.parentURL?.includes('/@modelcontextprotocol/conformance/'))
		return {
			url: new URL('./node20-fs.mjs', import.meta.url).href,
			shortCircuit: true,
		};
	return next(specifier, context);
}
