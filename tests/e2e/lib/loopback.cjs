// SPDX-License-Identifier: ISC
//
// Preloaded (node --require) into the stdio-to-HTTP bridge that the
// conformance suite talks to: every server binds 127.0.0.1 only, and a
// request whose Host or Origin names anything but this machine is refused
// with 403, so no web page can reach the bridge through DNS rebinding
// while a test runs.
'use strict';
const http = require('http');
const net = require('net');

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
	if (typeof args[0] === 'number' && typeof args[1] !== 'string')
		args.splice(1, 0, '127.0.0.1');
	else if (typeof args[0] === 'object' && args[0] !== null)
		args[0] = { ...args[0], host: '127.0.0.1' };
	return listen.apply(this, args);
};

const local = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, req, res, ...rest) {
	if (event === 'request') {
		const host = req.headers.host ?? '';
		const origin = req.headers.origin;
		const originHost = origin ? origin.replace(/^https?:\/\//, '') : '';
		if (!local.test(host) || (origin && !local.test(originHost))) {
			res.writeHead(403, { 'Content-Type': 'text/plain' });
			res.end('only this machine may use this bridge\n');
			return true;
		}
	}
	return emit.call(this, event, req, res, ...rest);
};
