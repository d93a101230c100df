# SPDX-License-Identifier: ISC
"""The unlock chain of DESIGN, as a person meets it: each source alone
unlocks and is reported; the first present source wins; a present source
that fails stops the chain with exit 5 naming it; tokens that are expired,
revoked, auth-only, malformed or another vault's are refused by name;
idw-mcp with nothing to unlock fails fast listing every source; a token
never shows in argv, the agent's environment or the audit log."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from idwtest import BIN, PASS, Conn, Home, need_bin, run_cases  # noqa: E402

need_bin()
NOPASS = {"IDW_PASSPHRASE": None}


def stop(h):
    h.idw("agent", "stop")


def status(h, env=None):
    r = h.idw("agent", "status", "--json", env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def started(h, env):
    """Start an agent with exactly this environment; (returncode, stderr)."""
    r = h.idw("agent", "start", env=env)
    return r.returncode, r.stderr.decode()


def new_token(h, *extra):
    r = h.idw("auth", "token", "create", "--label", "mcp", "--ttl", "720h",
              "--passphrase-stdin", *extra, input=(PASS + "\n").encode())
    assert r.returncode == 0, r.stderr
    tok = r.stdout.decode().strip()
    assert tok.startswith("idwst_"), tok
    return tok


def write_env(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def test_env_var_alone():
    with Home() as h:
        h.init()
        stop(h)
        assert started(h, {})[0] == 0
        assert status(h)["unlock_source"] == "env-var"


def test_session_token_alone_and_first():
    with Home() as h:
        h.init()
        tok = new_token(h)
        stop(h)
        rc, err = started(h, {"IDW_PASSPHRASE": None,
                              "IDW_SESSION_TOKEN": tok})
        assert rc == 0, err
        assert status(h, NOPASS)["unlock_source"] == "session-token"
        stop(h)
        # with the passphrase present too, the token still wins
        rc, err = started(h, {"IDW_SESSION_TOKEN": tok})
        assert rc == 0, err
        assert status(h)["unlock_source"] == "session-token"


def test_dotenv_cwd_then_home():
    with Home() as h:
        h.init()
        stop(h)
        cwd = os.path.join(h.tmp, "project")
        os.mkdir(cwd, 0o700)
        write_env(os.path.join(h.home, ".env"), f"IDW_PASSPHRASE='{PASS}'\n")
        r = subprocess.run([os.path.join(BIN, "idw"), "agent", "start"],
                           env={**h.env, "IDW_PASSPHRASE": ""}, cwd=cwd,
                           capture_output=True, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
        assert status(h, NOPASS)["unlock_source"] == "dotenv-file"
        stop(h)
        # ./.env comes first: a wrong one there stops the chain
        write_env(os.path.join(cwd, ".env"),
                  "# comment\nexport IDW_PASSPHRASE=wrong-passphrase # x\n")
        r = subprocess.run([os.path.join(BIN, "idw"), "list"],
                           env={k: v for k, v in h.env.items()
                                if k != "IDW_PASSPHRASE"}, cwd=cwd,
                           capture_output=True, stdin=subprocess.DEVNULL)
        assert r.returncode == 5, r
        assert b"dotenv-file" in r.stderr and b"project/.env" in r.stderr


def test_dotenv_readable_by_others_is_refused():
    with Home() as h:
        h.init()
        stop(h)
        write_env(os.path.join(h.home, ".env"), f"IDW_PASSPHRASE={PASS}\n",
                  0o644)
        rc, err = started(h, NOPASS)
        assert rc == 5, err
        assert ".env" in err and "chmod 600" in err, err


def test_present_failing_source_stops_the_chain():
    with Home() as h:
        h.init()
        stop(h)
        write_env(os.path.join(h.home, ".env"), f"IDW_PASSPHRASE={PASS}\n")
        rc, err = started(h, {"IDW_PASSPHRASE": "not-the-passphrase"})
        assert rc == 5, err
        assert "IDW_PASSPHRASE" in err and "wrong passphrase" in err, err


def test_expired_revoked_and_foreign_tokens_are_named():
    with Home() as h, Home() as other:
        h.init()
        other.init()
        r = h.idw("auth", "token", "create", "--label", "short", "--ttl",
                  "1s", "--passphrase-stdin", input=(PASS + "\n").encode())
        assert r.returncode == 0, r.stderr
        short = r.stdout.decode().strip()
        revoked = new_token(h)
        tid = revoked[6:]  # not the id; find it from the list
        lst = json.loads(h.idw("auth", "token", "list", "--json").stdout)
        rid = [t["id"] for t in lst["tokens"] if t["label"] == "mcp"][0]
        r = h.idw("auth", "token", "revoke", rid[:6])
        assert r.returncode == 0, r.stderr
        foreign = new_token(other)
        stop(h)
        time.sleep(1.5)
        for tok, words in ((short, ["short", "expired"]),
                           (revoked, ["mcp", "revoked"]),
                           (foreign, ["another vault"]),
                           ("idwst_notatoken", ["IDW_SESSION_TOKEN"])):
            rc, err = started(h, {"IDW_PASSPHRASE": None,
                                  "IDW_SESSION_TOKEN": tok})
            assert rc == 5, (tok, err)
            for w in words:
                assert w in err, (w, err)
        del tid


def test_auth_only_token_does_not_unlock():
    with Home() as h:
        h.init()
        tok = new_token(h, "--auth-only")
        stop(h)
        rc, err = started(h, {"IDW_PASSPHRASE": None,
                              "IDW_SESSION_TOKEN": tok})
        assert rc == 5 and "auth-only" in err, err
        # with a passphrase present it falls through to it
        rc, err = started(h, {"IDW_SESSION_TOKEN": tok})
        assert rc == 0, err
        assert status(h)["unlock_source"] == "env-var"


def test_mcp_fails_fast_listing_sources():
    with Home() as h:
        h.init()
        stop(h)
        env = {k: v for k, v in h.env.items() if k != "IDW_PASSPHRASE"}
        p = subprocess.Popen([os.path.join(BIN, "idw-mcp")], env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        msgs = [
            {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"}}},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
                "name": "list_passports", "arguments": {}}},
        ]
        t0 = time.time()
        out, err = p.communicate("".join(json.dumps(m) + "\n"
                                         for m in msgs).encode(), timeout=20)
        took = time.time() - t0
        assert took < 3.5, took
        lines = [json.loads(x) for x in out.decode().splitlines()]
        res = [x for x in lines if x.get("id") == 2][0]["result"]
        text = res["content"][0]["text"]
        assert res["isError"], res
        for src in ("session-token", "keychain", "env-var", "dotenv-file"):
            assert src in text, (src, text)


def test_token_never_in_argv_environ_or_audit():
    with Home() as h:
        h.init()
        tok = new_token(h)
        stop(h)
        rc, err = started(h, {"IDW_PASSPHRASE": None,
                              "IDW_SESSION_TOKEN": tok})
        assert rc == 0, err
        pid = status(h, NOPASS)["pid"]
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            assert tok.encode() not in f.read()
        if os.geteuid() == 0:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read()
            assert tok.encode() not in env
            assert tok[6:20].encode() not in env
        c = Conn(h.sock)
        entries = c.call({"verb": "audit", "limit": 500})["entries"]
        assert entries, "no audit entries"
        assert tok not in json.dumps(entries)
        assert tok[6:] not in json.dumps(entries)


run_cases([
    test_env_var_alone,
    test_session_token_alone_and_first,
    test_dotenv_cwd_then_home,
    test_dotenv_readable_by_others_is_refused,
    test_present_failing_source_stops_the_chain,
    test_expired_revoked_and_foreign_tokens_are_named,
    test_auth_only_token_does_not_unlock,
    test_mcp_fails_fast_listing_sources,
    test_token_never_in_argv_environ_or_audit,
])
