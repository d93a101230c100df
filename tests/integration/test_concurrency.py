# SPDX-License-Identifier: ISC
"""Restart safety and concurrent mutations: a client meeting an agent of
another wire version is told to run 'idw agent restart'; a restart with an
idw-mcp session and a CLI connection open gives both a prompt answer, not a
hang; many CLIs and an MCP session changing the vault at once lose nothing,
and the audit log verifies after a restart."""
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from idwtest import (BIN, ERROR, HELLO, PASS, Conn, Home, frame,  # noqa: E402
                     mcp_read, mcp_send, mcp_start,
                     need_bin, read_frame, run_cases)

need_bin()


def fake_agent(path, answer):
    """Listen at path; answer each hello with answer(hello) = (type, body)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(4)
    s.settimeout(20)

    def serve():
        try:
            while True:
                c, _ = s.accept()
                c.settimeout(10)
                try:
                    ftype, rid, msg, _ = read_frame(c)
                    t, body = answer(msg)
                    c.sendall(frame(t, body, req_id=rid))
                    time.sleep(0.2)
                finally:
                    c.close()
        except OSError:
            pass

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    return s


def test_wire_version_mismatch_says_restart():
    cases = [
        # a hello answered by an agent of another wire version
        (HELLO, {"ok": True, "vault_id": None, "home": "/x",
                 "agent_version": "9.9.9", "wire_version": 2,
                 "locked": False, "initialized": False,
                 "principal": "local", "pid": 1}),
        # the error frame an agent sends for a frame version it lacks
        (ERROR, {"ok": False, "code": "version",
                 "message": "wire version 1 is not spoken here",
                 "agent_version": "9.9.9", "wire_version": 2}),
    ]
    for t, body in cases:
        with Home() as h:
            os.makedirs(h.home, mode=0o700)
            srv = fake_agent(h.sock, lambda msg: (t, body))
            try:
                r = h.idw("agent", "status", timeout=30)
                err = r.stderr.decode()
                assert r.returncode != 0, r.stdout
                assert "run 'idw agent restart'" in err, err
            finally:
                srv.close()


def mcp_call(p, rid, name, args, timeout=20):
    mcp_send(p, {"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                 "params": {"name": name, "arguments": args}})
    while True:
        rep = mcp_read(p, timeout)
        if rep.get("id") == rid:
            return rep


def test_restart_with_clients_connected():
    with Home() as h:
        h.init()
        pid = h.create("alpha", "value-a")
        old = h.agent_pid()
        mcp = mcp_start(h)
        rep = mcp_call(mcp, 2, "list_passports", {})
        assert not rep["result"].get("isError"), rep
        cli = Conn(h.sock)
        assert cli.call({"verb": "status"})["ok"]
        r = h.idw("agent", "restart", timeout=60)
        assert r.returncode == 0, r.stderr
        assert h.agent_pid() not in (None, old)
        # the CLI connection of the old agent is closed, not left hanging
        cli.s.settimeout(10)
        try:
            data = cli.s.recv(1)
            assert data == b"", data
        except ConnectionError:
            pass
        # the MCP session answers at once: an error that says what to do,
        # or the answer of the new agent
        t0 = time.time()
        rep = mcp_call(mcp, 3, "get_credential",
                       {"passport_id": pid, "purpose": "after restart"})
        assert time.time() - t0 < 15
        res = rep.get("result", {})
        if res.get("isError"):
            text = json.dumps(res)
            assert "agent" in text, text
        mcp.stdin.close()
        mcp.wait(timeout=10)


def test_concurrent_mutations_lose_nothing():
    with Home() as h:
        h.init()
        # privilege visa: each request leaves a pending grant in the vault
        seed = h.create("seed", "value-seed", "--visa", "privilege")
        errors = []
        ids = []
        lock = threading.Lock()

        def cli_worker(w):
            for i in range(8):
                r = h.idw("create", "--name", f"w{w}-{i}", "--type",
                          "api-key", input=f"v-{w}-{i}".encode())
                if r.returncode != 0:
                    errors.append(r.stderr)
                    continue
                pid = r.stdout.decode().strip()
                with lock:
                    ids.append(pid)
                if i % 4 == 1:
                    r = h.idw("edit", pid, "--notes", f"edited {w}-{i}",
                              "--passphrase-stdin",
                              input=(PASS + "\n").encode())
                    if r.returncode != 0:
                        errors.append(r.stderr)

        mcp = mcp_start(h)
        mcp_results = []

        def mcp_worker():
            for i in range(10):
                rep = mcp_call(mcp, 100 + i, "request_access",
                               {"passport_id": seed,
                                "purpose": f"concurrent {i}",
                                "scope": [f"s{i}"]})
                mcp_results.append(rep)

        threads = [threading.Thread(target=cli_worker, args=(w,))
                   for w in range(4)]
        threads.append(threading.Thread(target=mcp_worker))
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=240)
        assert not errors, errors
        assert len(ids) == 32, len(ids)
        assert all("result" in r for r in mcp_results), mcp_results
        mcp.stdin.close()
        mcp.wait(timeout=10)
        r = h.idw("agent", "restart", timeout=60)
        assert r.returncode == 0, r.stderr
        r = h.idw("list", "--json")
        assert r.returncode == 0, r.stderr
        listed = {p["id"]: p for p in json.loads(r.stdout)["passports"]}
        assert set(ids) <= set(listed), set(ids) - set(listed)
        for pid in ids:
            r = h.idw("show", pid, "--json")
            assert r.returncode == 0, r.stderr
        edited = [p for p in listed.values()
                  if (p.get("notes") or "").startswith("edited")]
        assert len(edited) == 8, len(edited)
        r = h.idw("grants", "--json")
        assert r.returncode == 0, r.stderr
        g = json.loads(r.stdout)
        grants = g["grants"] if isinstance(g, dict) else g
        purposes = {x.get("purpose") for x in grants}
        assert sum(1 for i in range(10)
                   if f"concurrent {i}" in purposes) == 10, purposes
        r = h.idw("audit", "verify")
        assert r.returncode == 0, r.stdout + r.stderr


run_cases([
    test_wire_version_mismatch_says_restart,
    test_restart_with_clients_connected,
    test_concurrent_mutations_lose_nothing,
])
