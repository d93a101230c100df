# SPDX-License-Identifier: ISC
"""A hostile MCP client against the real idw-mcp and a real agent: broken
and oversized lines, a wrong type in every field, unknown methods, calls
before initialize, cancellations interleaved with calls, 10,000 pipelined
requests, a stuck agent, a killed agent and a client that leaves mid-call.
Every message gets the answer the protocol says (or none, for
notifications and cancelled requests) and the server stays up.  Standard
library only."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import queue

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from idwtest import BIN, Home, need_bin, run_cases  # noqa: E402

need_bin()

PARSE, INVALID, NO_METHOD, PARAMS = -32700, -32600, -32601, -32602
HOME = None
PP = None


class Mcp:
    """idw-mcp on pipes; a thread splits what it writes into lines."""

    def __init__(self, env=None, init="2025-11-25"):
        e = dict(HOME.env)
        e.update(env or {})
        self.p = subprocess.Popen([os.path.join(BIN, "idw-mcp")], env=e,
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.q = queue.Queue()
        self.err = b""
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()
        if init:
            r = self.call("initialize", {
                "protocolVersion": init, "capabilities": {},
                "clientInfo": {"name": "hostile", "version": "1"}}, id=0)
            assert r["result"]["protocolVersion"] == init, r
            self.notify("notifications/initialized")

    def _read(self):
        for line in self.p.stdout:
            self.q.put(line)
        self.q.put(None)

    def _read_err(self):
        self.err = self.p.stderr.read()

    def send(self, raw):
        self.p.stdin.write(raw if isinstance(raw, bytes) else raw.encode())
        self.p.stdin.flush()

    def send_json(self, obj):
        self.send(json.dumps(obj) + "\n")

    def notify(self, method, params=None):
        m = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            m["params"] = params
        self.send_json(m)

    def line(self, timeout=10):
        raw = self.q.get(timeout=timeout)
        assert raw is not None, "idw-mcp closed its output: " + \
            self.err.decode(errors="replace")[-2000:]
        return raw

    def recv(self, timeout=10):
        return json.loads(self.line(timeout))

    def nothing(self, wait=0.3):
        try:
            raw = self.q.get(timeout=wait)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected answer: {raw[:300]!r}")

    def call(self, method, params=None, id=1):
        m = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            m["params"] = params
        self.send_json(m)
        while True:
            r = self.recv()
            if r.get("method") != "notifications/message":
                return r

    def tool(self, name, args, id=1):
        return self.call("tools/call", {"name": name, "arguments": args},
                         id=id)

    def alive(self):
        r = self.call("ping", id="alive")
        assert r == {"jsonrpc": "2.0", "id": "alive", "result": {}}, r
        assert self.p.poll() is None

    def rss_kb(self):
        with open(f"/proc/{self.p.pid}/status") as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    return int(ln.split()[1])
        return 0

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            self.p.wait(timeout=10)


def err_code(r):
    assert "error" in r and "result" not in r, r
    return r["error"]["code"]


def test_malformed_and_oversized_lines():
    m = Mcp()
    cases = [
        (b"not json\n", PARSE), (b"{\n", PARSE), (b"\xff\xfe{}\n", PARSE),
        (b'{"jsonrpc":"2.0","id":1,"method":"p\x01"}\n', PARSE),
        (b'{"jsonrpc":"2.0","id":1,"method":"ping"} tail\n', PARSE),
        (b'{"jsonrpc":"2.0","id":1,"method":"ping","x":"\xed\xa0\x80"}\n',
         PARSE),
        (b"[]\n", INVALID), (b"42\n", INVALID), (b"null\n", INVALID),
        (b'"ping"\n', INVALID), (b"[" * 5000 + b"\n", PARSE),
        (b'{"a":[' + b"1," * 20000 + b"1]}\n", INVALID),
    ]
    for raw, code in cases:
        m.send(raw)
        r = m.recv()
        assert err_code(r) == code, (raw[:60], r)
        assert r["id"] is None, r
    m.send(b"\n   \r\n\t\n")  # blank lines: nothing at all
    m.nothing()
    m.send(b'{"jsonrpc":"2.0","id":"crlf","method":"ping"}\r\n')
    assert m.recv() == {"jsonrpc": "2.0", "id": "crlf", "result": {}}
    # Over 1 MiB: one error per line, never held whole in memory.
    before = m.rss_kb()
    m.send(b'{"x":"' + b"a" * (20 << 20) + b'"}\n')
    r = m.recv(timeout=30)
    assert err_code(r) == INVALID and "1 MiB" in r["error"]["message"], r
    assert m.rss_kb() - before < 8 << 10, (before, m.rss_kb())
    pad = (1 << 20) - len('{"jsonrpc":"2.0","id":"max","method":"ping",'
                          '"params":{"p":""}}')
    exact = ('{"jsonrpc":"2.0","id":"max","method":"ping","params":{"p":"'
             + "b" * pad + '"}}')
    assert len(exact) == 1 << 20
    m.send(exact + "\n")
    assert m.recv()["id"] == "max"
    m.send(exact + " \n")  # one byte over
    assert err_code(m.recv()) == INVALID
    m.alive()
    m.close()


def test_wrong_types_in_every_field():
    m = Mcp()
    cases = [
        ({"jsonrpc": 2, "id": 1, "method": "ping"}, INVALID),
        ({"jsonrpc": "1.0", "id": 1, "method": "ping"}, INVALID),
        ({"id": 1, "method": "ping"}, INVALID),
        ({"jsonrpc": "2.0", "id": None, "method": "ping"}, INVALID),
        ({"jsonrpc": "2.0", "id": True, "method": "ping"}, INVALID),
        ({"jsonrpc": "2.0", "id": {}, "method": "ping"}, INVALID),
        ({"jsonrpc": "2.0", "id": [1], "method": "ping"}, INVALID),
        ({"jsonrpc": "2.0", "id": 1, "method": 7}, INVALID),
        ({"jsonrpc": "2.0", "id": 1}, INVALID),
        ({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": "x"},
         INVALID),
        ({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": 3},
         INVALID),
        ({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": [1]},
         PARAMS),
        ({"jsonrpc": "2.0", "id": 1, "method": "initialize",
          "params": {"protocolVersion": 5}}, PARAMS),
        ({"jsonrpc": "2.0", "id": 1, "method": "initialize",
          "params": {"protocolVersion": "2025-11-25",
                     "capabilities": "all"}}, PARAMS),
        ({"jsonrpc": "2.0", "id": 1, "method": "initialize",
          "params": {"protocolVersion": "2025-11-25",
                     "clientInfo": []}}, PARAMS),
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
          "params": {"name": 5}}, PARAMS),
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
          "params": {"name": "list_passports", "arguments": []}}, PARAMS),
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
          "params": {"name": "get_credential", "arguments": "x"}}, PARAMS),
        ({"jsonrpc": "2.0", "id": 1, "method": "resources/read",
          "params": {"uri": 5}}, PARAMS),
        ({"jsonrpc": "2.0", "id": 1, "method": "resources/read",
          "params": {}}, PARAMS),
        ({"jsonrpc": "2.0", "id": 1, "method": "resources/list",
          "params": {"cursor": 5}}, PARAMS),
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/list",
          "params": {"cursor": {}}}, PARAMS),
        ({"jsonrpc": "2.0", "id": 1, "method": "logging/setLevel",
          "params": {"level": 3}}, PARAMS),
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/list",
          "params": {"_meta": "x"}}, PARAMS),
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/list",
          "params": {"_meta": {
              "io.modelcontextprotocol/protocolVersion": 2026}}}, PARAMS),
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/list",
          "params": {"_meta": {
              "io.modelcontextprotocol/protocolVersion": "2026-07-28",
              "io.modelcontextprotocol/clientCapabilities": []}}}, PARAMS),
    ]
    for msg, code in cases:
        m.send_json(msg)
        r = m.recv()
        assert err_code(r) == code, (msg, r)
        assert r["id"] == (msg["id"] if isinstance(msg.get("id"), int)
                           and not isinstance(msg.get("id"), bool)
                           else None), (msg, r)
    # Arguments of the wrong type: a tool error the model can read.
    for args in ({"passport_id": 5, "purpose": "x"},
                 {"passport_id": PP, "purpose": ["x"]},
                 {"passport_id": PP, "purpose": ""},
                 {"status": "gone"}, {"passport_id": PP, "scope": "x",
                                      "purpose": "p"}):
        name = "list_passports" if "status" in args else (
            "request_access" if "scope" in args else "get_credential")
        r = m.tool(name, args)
        assert r["result"]["isError"] is True, (args, r)
    # Fields nobody defined are ignored.
    m.send_json({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                 "extra": [1], "params": {"name": "check_policy",
                                          "more": {}, "arguments": {
                                              "passport_id": PP,
                                              "ignored": True}}})
    r = m.recv()
    assert r["result"]["isError"] is False, r
    m.alive()
    m.close()


def test_unknown_methods_and_notifications():
    m = Mcp()
    for meth in ("prompts/list", "resources/subscribe", "completion/complete",
                 "tasks/get", "no/such", "", "PING"):
        r = m.call(meth, {}, id=meth or "empty")
        assert err_code(r) == NO_METHOD and r["id"] == (meth or "empty"), r
    m.notify("notifications/whatever", {"x": 1})
    m.notify("tools/call", {"name": "get_credential"})  # no id: no answer
    m.notify("notifications/cancelled", {"requestId": "never-sent"})
    m.notify("notifications/cancelled", {"requestId": {"x": 1}})
    m.notify("notifications/cancelled", "broken")
    m.send('{"jsonrpc":"2.0","id":77,"result":{}}\n')  # a stray response
    m.nothing()
    m.alive()
    m.close()


def test_before_initialize():
    m = Mcp(init=None)
    for meth, params in (("tools/list", {}), ("resources/list", {}),
                         ("tools/call", {"name": "list_passports"}),
                         ("resources/read", {"uri": f"passport://{PP}"}),
                         ("logging/setLevel", {"level": "info"}),
                         ("server/discover", {})):
        r = m.call(meth, params)
        assert err_code(r) == PARAMS, (meth, r)
        assert "initialize" in r["error"]["message"] or \
            "_meta" in r["error"]["message"], r
    m.alive()  # ping may come first
    m.send_json({"jsonrpc": "2.0", "id": 5, "method": "initialize",
                 "params": {"protocolVersion": "2025-06-18",
                            "capabilities": {}}})
    assert m.recv()["result"]["protocolVersion"] == "2025-06-18"
    assert "tools" in m.call("tools/list")["result"]
    m.close()


def test_ids_echoed_exactly():
    m = Mcp()
    for raw in ("0", "-1", "1.5", "1e3", "12345678901234567890",
                "9007199254740993", '"x"', '""', '"\\u00e9\\n"'):
        m.send('{"method":"ping","id":%s,"jsonrpc":"2.0"}\n' % raw)
        line = m.line().decode()
        assert line.startswith('{"jsonrpc":"2.0","id":%s,' % raw) or \
            json.loads(line)["id"] == json.loads(raw), (raw, line)
    m.close()


def test_batches_only_in_2025_03_26():
    m = Mcp(init="2025-03-26")
    m.send('[{"jsonrpc":"2.0","id":1,"method":"ping"},'
           '{"jsonrpc":"2.0","method":"notifications/x"},'
           '{"jsonrpc":"2.0","id":2,"method":"tools/list"},7]\n')
    r = m.recv()
    assert isinstance(r, list) and len(r) == 3, r
    assert r[0]["id"] == 1 and "tools" in r[1]["result"], r
    assert err_code(r[2]) == INVALID
    m.close()
    m = Mcp(init="2025-11-25")
    m.send('[{"jsonrpc":"2.0","id":1,"method":"ping"}]\n')
    assert err_code(m.recv()) == INVALID
    m.close()


def get(i, purpose="hostile"):
    return {"jsonrpc": "2.0", "id": i, "method": "tools/call",
            "params": {"name": "get_credential",
                       "arguments": {"passport_id": PP, "purpose": purpose}}}


def cancel(i):
    return {"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": i, "reason": "hostile"}}


def test_interleaved_cancellations():
    m = Mcp()
    # Cancelled before it ran: never answered; another id still is.
    m.send("".join(json.dumps(x) + "\n" for x in
                   (get(5), cancel(5), {"jsonrpc": "2.0", "id": "5",
                                        "method": "ping"})))
    assert m.recv() == {"jsonrpc": "2.0", "id": "5", "result": {}}
    m.nothing()
    # Hundreds, interleaved with requests that must be answered.
    msgs, want = [], []
    for i in range(150):
        msgs += [get(f"c{i}"), cancel(f"c{i}"),
                 {"jsonrpc": "2.0", "id": f"p{i}", "method": "ping"}]
        want.append(f"p{i}")
        if i % 3 == 0:
            msgs.append(get(f"k{i}"))
            want.append(f"k{i}")
    blob = "".join(json.dumps(x) + "\n" for x in msgs)
    assert len(blob) < 60000  # one write the pipe takes whole
    m.send(blob)
    got = [m.recv()["id"] for _ in want]
    assert got == want, [x for x in got if x.startswith("c")]
    m.nothing()
    # Cancelled while the agent is stuck: that answer is dropped.
    stuck = Mcp(env={"IDW_MCP_TIMEOUT": "1s"})
    stuck.alive()
    assert stuck.tool("list_passports", {})["result"]["isError"] is False
    apid = HOME.agent_pid()
    os.kill(apid, signal.SIGSTOP)
    try:
        stuck.send_json(get("slow"))
        time.sleep(0.2)
        stuck.send_json(cancel("slow"))
        stuck.send_json({"jsonrpc": "2.0", "id": "after", "method": "ping"})
        assert stuck.recv(timeout=5)["id"] == "after"
        stuck.nothing(0.5)
    finally:
        os.kill(apid, signal.SIGCONT)
    # The agent is back: the late reply is skipped, the next call works.
    r = stuck.tool("check_policy", {"passport_id": PP}, id="again")
    assert r["id"] == "again" and r["result"]["isError"] is False, r
    stuck.close()
    m.alive()
    m.close()


def test_10000_pipelined_requests():
    m = Mcp()
    kinds = [
        (lambda i: {"jsonrpc": "2.0", "id": i, "method": "ping"}, "result"),
        (lambda i: {"jsonrpc": "2.0", "id": i, "method": "tools/list"},
         "result"),
        (lambda i: {"jsonrpc": "2.0", "id": i, "method": "tools/call",
                    "params": {"name": "check_policy",
                               "arguments": {"passport_id": PP}}}, "result"),
        (lambda i: {"jsonrpc": "2.0", "id": i, "method": "resources/read",
                    "params": {"uri": f"passport://{PP}"}}, "result"),
        (lambda i: {"jsonrpc": "2.0", "id": i, "method": "nope"}, NO_METHOD),
        (lambda i: {"jsonrpc": "2.0", "id": i, "method": "tools/call",
                    "params": {"name": "nope"}}, PARAMS),
        (lambda i: {"jsonrpc": "2.0", "method": "notifications/x"}, None),
    ]
    n = 10000
    lines, want = [], []
    for i in range(n):
        make, expect = kinds[i % len(kinds)]
        lines.append(json.dumps(make(i)) + "\n")
        if expect is not None:
            want.append((i, expect))
    blob = "".join(lines).encode()

    def writer():
        for k in range(0, len(blob), 65536):
            m.p.stdin.write(blob[k:k + 65536])
        m.p.stdin.flush()

    t0 = time.time()
    w = threading.Thread(target=writer)
    w.start()
    for i, expect in want:
        r = m.recv(timeout=30)
        assert r["id"] == i, (i, r)
        if expect == "result":
            assert "result" in r, r
        else:
            assert err_code(r) == expect, r
    w.join()
    took = time.time() - t0
    print(f"  {n} pipelined requests, {len(want)} answers in {took:.2f} s",
          flush=True)
    m.nothing()
    m.alive()
    m.close()


def test_stdin_closed_mid_call():
    m = Mcp(env={"IDW_MCP_TIMEOUT": "30s"})
    assert m.tool("list_passports", {})["result"]["isError"] is False
    apid = HOME.agent_pid()
    os.kill(apid, signal.SIGSTOP)
    try:
        m.send_json(get("stuck"))
        time.sleep(0.2)
        t0 = time.time()
        m.p.stdin.close()
        rc = m.p.wait(timeout=10)
        took = time.time() - t0
    finally:
        os.kill(apid, signal.SIGCONT)
    assert rc == 0, (rc, m.err)
    assert took < 1.0, f"idw-mcp took {took:.2f} s to leave after EOF"


def test_agent_killed():
    m = Mcp()
    assert m.tool("list_passports", {})["result"]["isError"] is False
    os.kill(HOME.agent_pid(), signal.SIGKILL)
    time.sleep(0.2)
    for i in range(3):
        t0 = time.time()
        r = m.tool("list_passports", {}, id=i)
        assert r["result"]["isError"] is True, r
        text = r["result"]["content"][0]["text"]
        assert "lost" in text and "restart" in text, text
        assert time.time() - t0 < 1.0
    m.alive()
    m.close()


def main():
    global HOME, PP
    with Home() as h:
        HOME = h
        h.init()
        PP = h.create("hostile", "sk-hostile-value")
        run_cases([
            test_malformed_and_oversized_lines,
            test_wrong_types_in_every_field,
            test_unknown_methods_and_notifications,
            test_before_initialize,
            test_ids_echoed_exactly,
            test_batches_only_in_2025_03_26,
            test_interleaved_cancellations,
            test_10000_pipelined_requests,
            test_stdin_closed_mid_call,
            test_agent_killed,
        ])


main()
