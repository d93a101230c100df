# SPDX-License-Identifier: ISC
"""The agent's socket and wire protocol, spoken directly (docs/protocol.md):
hello, frame checks before allocation, the 5 s hello timeout, 128 clients,
a slow client that stalls nobody, SIGTERM, values only in the secret
segment.  Another uid's refusal is in security/test_socket_perms.py."""
import os
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from idwtest import (ERROR, HELLO, PASS, REPLY, REQUEST, Conn, Home, frame,  # noqa: E402
                     need_bin, read_frame, run_cases)

need_bin()


def closed(s, timeout=3):
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True


def test_hello_answers_vault_and_state():
    with Home() as h:
        h.init_raw()
        c = Conn(h.sock)
        hello = c.hello
        assert hello["ok"] and hello["initialized"] and not hello["locked"]
        assert len(hello["vault_id"]) == 32
        assert hello["wire_version"] == 1 and hello["principal"] == "local"
        with open(os.path.join(h.home, "vault.idw"), "rb") as f:
            assert f.read(24)[8:24].hex() == hello["vault_id"]
        st = c.call({"verb": "status"})
        assert st["ok"] and st["unlock_source"] == "init"


def test_request_before_hello_is_refused_and_closed():
    with Home() as h:
        h.init_raw()
        c = Conn(h.sock, hello=False)
        ft, _, msg, _ = c.send(REQUEST, {"verb": "status"})
        assert ft == ERROR and not msg["ok"], msg
        assert closed(c.s)


def test_oversized_frame_refused_before_allocation():
    with Home() as h:
        h.init_raw()
        c = Conn(h.sock)
        c.s.sendall(struct.pack("<IHHI", 64 << 20, REQUEST, 1, 9))
        ft, rid, msg, _ = read_frame(c.s)
        assert ft == ERROR and msg["code"] == "version", msg
        assert msg["agent_version"] and msg["wire_version"] == 1
        assert closed(c.s)
        # the agent keeps serving others
        assert Conn(h.sock).call({"verb": "status"})["ok"]


def test_unknown_version_and_type_refused():
    with Home() as h:
        h.init_raw()
        for hdr in (struct.pack("<IHHI", 3, REQUEST, 7, 1),
                    struct.pack("<IHHI", 3, 99, 1, 1)):
            c = Conn(h.sock)
            c.s.sendall(hdr + b"{}\0")
            ft, _, msg, _ = read_frame(c.s)
            assert ft == ERROR and not msg["ok"], msg
            assert closed(c.s)


def test_malformed_request_keeps_connection():
    with Home() as h:
        h.init_raw()
        c = Conn(h.sock)
        c.rid += 1
        c.s.sendall(struct.pack("<IHHI", 5, REQUEST, 1, c.rid) + b"nope\0")
        ft, _, msg, _ = read_frame(c.s)
        assert ft == REPLY and msg["code"] == "invalid", msg
        assert c.call({"verb": "no-such-verb"})["code"] == "usage"
        assert c.call({"verb": "status"})["ok"]


def test_connection_without_hello_dropped_after_5s():
    with Home() as h:
        h.init_raw()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(h.sock)
        t0 = time.time()
        assert closed(s, timeout=10)
        took = time.time() - t0
        assert 4.0 <= took <= 8.0, took


def test_128_clients_at_once():
    with Home() as h:
        h.init_raw()
        conns = [Conn(h.sock) for _ in range(130)]
        for c in conns:
            assert c.call({"verb": "status"})["clients"] >= 130
        for c in conns:
            c.close()


def test_slow_client_stalls_nobody():
    with Home() as h:
        h.init_raw()
        c = Conn(h.sock)
        for i in range(300):
            assert c.call({"verb": "create", "name": f"p{i}" * 20,
                           "credential_type": "api-key",
                           "notes": "n" * 400}, b"v" * 100)["ok"]
        # a client that asks for big lists and never reads its replies
        slow = Conn(h.sock)
        slow.s.setblocking(False)
        big = frame(REQUEST, {"verb": "list", "limit": 500}, req_id=2)
        sent = 0
        try:
            for _ in range(200):
                slow.s.send(big)
                sent += 1
        except BlockingIOError:
            pass
        # and one that sent half a header
        half = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        half.connect(h.sock)
        half.sendall(b"\x05\x00\x00")
        t0 = time.time()
        for _ in range(50):
            assert c.call({"verb": "status"})["ok"]
        assert time.time() - t0 < 5, "the agent stalled behind a slow client"


def test_sigterm_exits_cleanly_and_removes_socket():
    with Home() as h:
        p = h.init_raw()
        os.kill(p.pid, signal.SIGTERM)
        assert p.wait(timeout=5) == 0
        assert not os.path.exists(h.sock)


def test_value_travels_only_in_secret_segment():
    with Home() as h:
        h.init_raw()
        c = Conn(h.sock)
        value = b"sk-live-\"quoted\"-\xe2\x9c\x93"
        rep = c.call({"verb": "create", "name": "x",
                      "credential_type": "api-key",
                      "human_owner": "tester"}, value)
        assert rep["ok"], rep
        assert value.decode() not in str(rep)
        msg, sec = c.call_secret({"verb": "get", "id": rep["id"],
                                  "purpose": "test"})
        assert msg["ok"] and sec == value, (msg, sec)
        assert value.decode() not in str(msg)
        msg = c.call({"verb": "get", "id": rep["id"]})
        assert msg["code"] == "usage"  # a purpose is required


def test_idle_exit_after_last_client_leaves():
    with Home() as h:
        h.init_raw()
        h.children[0].send_signal(signal.SIGTERM)
        h.children[0].wait(timeout=5)
        p, lines = h.start_agent("--idle-timeout=2s")
        assert lines == ["ok"], lines
        c = Conn(h.sock)
        time.sleep(3)  # a connected client keeps it alive
        assert c.call({"verb": "status"})["ok"]
        c.close()
        assert p.wait(timeout=10) == 0
        assert not os.path.exists(h.sock)


def test_locked_agent_does_not_idle_exit():
    with Home() as h:
        h.init_raw()
        h.children[0].send_signal(signal.SIGTERM)
        h.children[0].wait(timeout=5)
        p, lines = h.start_agent("--idle-timeout=1s")
        assert lines == ["ok"], lines
        c = Conn(h.sock)
        assert c.call({"verb": "lock"})["ok"]
        assert c.call({"verb": "list"})["code"] == "locked"
        c.close()
        time.sleep(2.5)
        assert p.poll() is None, "a locked agent exited on idle"
        c = Conn(h.sock)
        assert c.call({"verb": "unlock"}, PASS.encode())["ok"]
        assert c.call({"verb": "list"})["ok"]


def test_second_agent_for_same_home_steps_aside():
    with Home() as h:
        h.init_raw()
        p, lines = h.start_agent()
        assert lines == ["retry"], lines
        assert p.wait(timeout=5) == 0
        assert Conn(h.sock).call({"verb": "status"})["ok"]


run_cases([
    test_hello_answers_vault_and_state,
    test_request_before_hello_is_refused_and_closed,
    test_oversized_frame_refused_before_allocation,
    test_unknown_version_and_type_refused,
    test_malformed_request_keeps_connection,
    test_connection_without_hello_dropped_after_5s,
    test_128_clients_at_once,
    test_slow_client_stalls_nobody,
    test_sigterm_exits_cleanly_and_removes_socket,
    test_value_travels_only_in_secret_segment,
    test_idle_exit_after_last_client_leaves,
    test_locked_agent_does_not_idle_exit,
    test_second_agent_for_same_home_steps_aside,
])
