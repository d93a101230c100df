# SPDX-License-Identifier: ISC
"""Helpers for idw's black-box tests: temporary homes, the agent, the CLI
and the wire protocol spoken directly (docs/protocol.md).  Standard library
only."""
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

BIN = os.environ.get("IDW_BIN", "")
HELLO, REQUEST, REPLY, ERROR = 1, 2, 3, 4
PASS = "correct horse battery staple"


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def need_bin():
    if not BIN or not os.path.exists(os.path.join(BIN, "idw-agentd")):
        skip("IDW_BIN does not point at a build with idw-agentd")


class Home:
    """A private IDW_HOME and socket path, removed (agent stopped) at exit."""

    def __init__(self, passphrase=PASS):
        self.tmp = tempfile.mkdtemp(prefix="idw-test-")
        os.chmod(self.tmp, 0o700)
        self.home = os.path.join(self.tmp, "home")
        self.sock = os.path.join(self.tmp, "agent.sock")
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.tmp,
            "IDW_HOME": self.home,
            "IDW_SOCKET": self.sock,
            "LANG": "C.UTF-8",
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                self.env[k] = os.environ[k]
        if passphrase is not None:
            self.env["IDW_PASSPHRASE"] = passphrase
        self.children = []

    def idw(self, *args, input=None, env=None, timeout=60):
        e = dict(self.env)
        if env:
            e.update(env)
            for k, v in list(e.items()):
                if v is None:
                    del e[k]
        return subprocess.run([os.path.join(BIN, "idw"), *args], input=input,
                              capture_output=True, env=e, timeout=timeout,
                              stdin=None if input is not None else subprocess.DEVNULL)

    def init(self):
        r = self.idw("init", "--kdf", "interactive")
        assert r.returncode == 0, r.stderr
        return r

    def create(self, name, value, *extra):
        r = self.idw("create", "--name", name, "--type", "api-key", *extra,
                     input=value.encode() if isinstance(value, str) else value)
        assert r.returncode == 0, r.stderr
        pid = r.stdout.decode().strip()
        assert pid.startswith("pp_") and len(pid) == 19, pid
        return pid

    def start_agent(self, *args, env=None):
        """Run idw-agentd as our child; returns (Popen, status lines)."""
        os.makedirs(self.home, mode=0o700, exist_ok=True)
        r, w = os.pipe()
        e = dict(self.env)
        if env:
            e.update(env)
            for k, v in list(e.items()):
                if v is None:
                    del e[k]
        p = subprocess.Popen([os.path.join(BIN, "idw-agentd"),
                              f"--status-fd={w}", *args], env=e,
                             pass_fds=(w,), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(w)
        self.children.append(p)
        out = b""
        while True:
            chunk = os.read(r, 4096)
            if not chunk:
                break
            out += chunk
        os.close(r)
        return p, out.decode().splitlines()

    def init_raw(self):
        """Create the vault over the wire (no CLI involved)."""
        p, lines = self.start_agent("--allow-no-vault")
        assert lines == ["ok"], lines
        c = Conn(self.sock)
        rep = c.call({"verb": "init", "kdf": "interactive"},
                     PASS.encode())
        c.close()
        assert rep["ok"], rep
        return p

    def agent_pid(self):
        try:
            c = Conn(self.sock)
            st = c.call({"verb": "status"})
            c.close()
            return st.get("pid")
        except OSError:
            return None

    def close(self):
        pid = self.agent_pid()
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
                for _ in range(100):
                    for ch in self.children:
                        ch.poll()  # reap our own agents
                    os.kill(pid, 0)
                    time.sleep(0.05)
            except ProcessLookupError:
                pass
        for ch in self.children:
            if ch.poll() is None:
                ch.kill()
                ch.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def frame(ftype, body_json, secret=None, req_id=1, version=1):
    body = json.dumps(body_json).encode() + b"\0"
    if secret is not None:
        body += struct.pack("<I", len(secret)) + secret
    return struct.pack("<IHHI", len(body), ftype, version, req_id) + body


def read_frame(s):
    hdr = recv_exact(s, 12)
    blen, ftype, ver, rid = struct.unpack("<IHHI", hdr)
    body = recv_exact(s, blen)
    nul = body.index(b"\0")
    msg = json.loads(body[:nul])
    secret = None
    if len(body) > nul + 1:
        (slen,) = struct.unpack("<I", body[nul + 1:nul + 5])
        secret = body[nul + 5:nul + 5 + slen]
    return ftype, rid, msg, secret


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


class Conn:
    """A raw protocol client: hello on connect, then call()."""

    def __init__(self, path, hello=True, timeout=10):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.rid = 0
        if hello:
            self.hello = self.send(HELLO, {"client": "test", "version": "0"})[2]

    def send(self, ftype, body, secret=None):
        self.rid += 1
        self.s.sendall(frame(ftype, body, secret, self.rid))
        return read_frame(self.s)

    def call(self, body, secret=None):
        return self.send(REQUEST, body, secret)[2]

    def call_secret(self, body, secret=None):
        ft, rid, msg, sec = self.send(REQUEST, body, secret)
        return msg, sec

    def close(self):
        self.s.close()


# idw-mcp over stdio, one JSON-RPC message a line.

def mcp_start(h):
    """Start idw-mcp in h's environment and initialize it."""
    p = subprocess.Popen([os.path.join(BIN, "idw-mcp")], env=h.env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    h.children.append(p)
    mcp_send(p, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                 "params": {"protocolVersion": "2025-06-18",
                            "capabilities": {},
                            "clientInfo": {"name": "t", "version": "0"}}})
    assert mcp_read(p, 15)["id"] == 1
    mcp_send(p, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    return p


def mcp_send(p, msg):
    p.stdin.write((json.dumps(msg) + "\n").encode())
    p.stdin.flush()


def mcp_read(p, timeout):
    r, _, _ = select.select([p.stdout], [], [], timeout)
    assert r, "idw-mcp did not answer in time"
    line = p.stdout.readline()
    assert line, "idw-mcp closed its output"
    return json.loads(line)


def run_cases(cases):
    """Run test functions, print a summary line, exit 1 on any failure."""
    passed = failed = 0
    for fn in cases:
        t0 = time.time()
        try:
            fn()
            passed += 1
            print(f"ok   {fn.__name__} ({time.time() - t0:.2f}s)", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {fn.__name__}", flush=True)
            traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
