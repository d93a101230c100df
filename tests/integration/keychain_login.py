# SPDX-License-Identifier: ISC
"""Run inside tests/lib/keyring-session.sh (test_keychain_login.sh): the
OS keychain as an unlock source, with a real gnome-keyring.

* idw auth login once, then an agent started with no variable at all
  unlocks from the keychain, and so does idw-mcp;
* idw auth logout: the slot and the item are gone, idw-mcp fails fast
  naming every source;
* a login that dies between storing the key and confirming the slot
  leaves a vault that opens exactly as before (the pending slot unlocks
  nothing)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from idwtest import BIN, PASS, Home, need_bin, run_cases, skip  # noqa: E402

need_bin()
if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
    skip("not inside a D-Bus session (run test_keychain_login.sh)")
NOSECRET = {"IDW_PASSPHRASE": None}


def bus_env(h):
    e = dict(h.env)
    e["DBUS_SESSION_BUS_ADDRESS"] = os.environ["DBUS_SESSION_BUS_ADDRESS"]
    return e


def mcp_call(env, tool="list_passports", args=None, bindir=BIN):
    msgs = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
         "params": {"name": tool, "arguments": args or {}}},
    ]
    t0 = time.time()
    r = subprocess.run([os.path.join(bindir, "idw-mcp")], env=env,
                       input="".join(json.dumps(m) + "\n"
                                     for m in msgs).encode(),
                       capture_output=True, timeout=30)
    took = time.time() - t0
    res = [json.loads(x) for x in r.stdout.decode().splitlines()
           if json.loads(x).get("id") == 2][0]["result"]
    return res, took


def login(h, env):
    r = subprocess.run([os.path.join(BIN, "idw"), "auth", "login",
                        "--passphrase-stdin"], env=env,
                       input=(PASS + "\n").encode(), capture_output=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r


def test_login_then_no_variables_then_logout():
    with Home() as h:
        env = bus_env(h)
        h.init()
        pid = h.create("k", "keychain-value")
        login(h, env)
        h.idw("agent", "stop")
        bare = {k: v for k, v in env.items() if k != "IDW_PASSPHRASE"}
        r = subprocess.run([os.path.join(BIN, "idw"), "agent", "status",
                            "--json"], env=bare, capture_output=True)
        assert r.returncode == 1  # nothing runs yet
        res, _ = mcp_call(bare, "get_credential",
                          {"passport_id": pid, "purpose": "keychain test"})
        assert not res.get("isError"), res
        assert res["structuredContent"]["credential"] == "keychain-value"
        st = json.loads(subprocess.run(
            [os.path.join(BIN, "idw"), "agent", "status", "--json"],
            env=bare, capture_output=True).stdout)
        assert st["unlock_source"] == "keychain", st
        r = subprocess.run([os.path.join(BIN, "idw"), "auth", "status",
                            "--json"], env=bare, capture_output=True)
        assert json.loads(r.stdout)["would_unlock"] == "keychain"
        r = subprocess.run([os.path.join(BIN, "idw"), "auth", "logout"],
                           env=bare, capture_output=True)
        assert r.returncode == 0, r.stderr
        subprocess.run([os.path.join(BIN, "idw"), "agent", "stop"],
                       env=bare, capture_output=True)
        res, took = mcp_call(bare)
        assert res["isError"] and took < 3.5, (res, took)
        text = res["content"][0]["text"]
        assert "keychain" in text and "env-var" in text, text
        # the item is gone from the keyring too
        r = subprocess.run(["secret-tool", "search", "--all", "vault_id",
                            st["vault_id"]], env=bare, capture_output=True)
        assert b"idw machine key" not in r.stdout + r.stderr


def test_crash_between_store_and_commit_leaves_vault_opening():
    with Home() as h:
        env = bus_env(h)
        h.init()
        h.create("k", "still-here")
        # idw beside a helper that stores the key, then kills idw before
        # it can confirm the slot
        fake = os.path.join(h.tmp, "bin")
        os.mkdir(fake)
        for b in ("idw", "idw-agentd", "idw-mcp"):
            shutil.copy(os.path.join(BIN, b), fake)
        with open(os.path.join(fake, "idw-keychain-helper"), "w") as f:
            f.write("#!/bin/sh\n"
                    f"out=$({os.path.join(BIN, 'idw-keychain-helper')} "
                    "\"$@\")\n"
                    "[ \"$1\" = store ] && kill -9 $PPID\n"
                    "echo \"$out\"\n")
        os.chmod(os.path.join(fake, "idw-keychain-helper"), 0o755)
        r = subprocess.run([os.path.join(fake, "idw"), "auth", "login",
                            "--passphrase-stdin"], env=env,
                           input=(PASS + "\n").encode(),
                           capture_output=True, timeout=60)
        assert r.returncode == -signal.SIGKILL, r
        # the agent (started from the fake dir) holds a pending slot only
        h.idw("agent", "stop", env=env)
        bare = {k: v for k, v in env.items() if k != "IDW_PASSPHRASE"}
        res, took = mcp_call(bare)
        assert res["isError"], res  # the pending slot unlocks nothing
        r = h.idw("get", h.create("k2", "v2"), "--purpose", "check",
                  env=env)
        assert r.returncode == 0, r.stderr
        r = h.idw("list", "--json", env=env)
        assert r.returncode == 0 and b"still-here" not in r.stdout


run_cases([
    test_login_then_no_variables_then_logout,
    test_crash_between_store_and_commit_leaves_vault_opening,
])
