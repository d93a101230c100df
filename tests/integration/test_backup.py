# SPDX-License-Identifier: ISC
"""idw backup and idw restore: a consistent copy streamed while the agent
keeps serving, a restore over a running agent whose clients are told, the
refusals (no --yes without a terminal, another vault, a wrong passphrase),
and the audit log re-anchored so it accepts the older vault."""
import glob
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from idwtest import (BIN, PASS, Conn, Home, mcp_read, mcp_send,  # noqa: E402
                     mcp_start, need_bin, run_cases)

need_bin()
PROOF = (PASS + "\n").encode()


def names(h):
    r = h.idw("list", "--json")
    assert r.returncode == 0, r.stderr
    return sorted(p["name"] for p in json.loads(r.stdout)["passports"])


def restore(h, f, *extra, input=PROOF):
    return h.idw("restore", f, "--passphrase-stdin", *extra, input=input)


def test_backup_writes_a_private_copy_and_warns():
    with Home() as h:
        h.init()
        h.create("alpha", "value-a")
        f = os.path.join(h.tmp, "copy.idw")
        r = h.idw("backup", f, "--with-audit")
        assert r.returncode == 0, r.stderr
        assert "rekey" in r.stderr.decode() and "passphrase" in \
            r.stderr.decode(), r.stderr
        for p in (f, f + ".audit"):
            assert os.stat(p).st_mode & 0o777 == 0o600, oct(os.stat(p).st_mode)
        data = open(f, "rb").read()
        assert data[:4] == b"IDWV"
        assert data == open(os.path.join(h.home, "vault.idw"), "rb").read()
        assert open(f + ".audit", "rb").read()[:4] == b"IDWA"
        assert not glob.glob(f + ".tmp-*")
        # an existing file is kept unless --force
        r = h.idw("backup", f)
        assert r.returncode == 1 and b"--force" in r.stderr, r.stderr
        assert open(f, "rb").read() == data
        h.create("beta", "value-b")
        r = h.idw("backup", f, "--force")
        assert r.returncode == 0, r.stderr
        assert len(open(f, "rb").read()) > len(data)


def test_paged_copy_is_consistent_while_mutations_continue():
    """Pages read after other clients changed the vault still make the
    copy of the moment the first page was taken: it opens, alone, with
    exactly the passports of that moment."""
    with Home() as h:
        h.init()
        c = Conn(h.sock)
        before = []
        for i in range(8):  # about 480 KiB: three pages
            rep = c.call({"verb": "create", "name": f"big-{i}",
                          "credential_type": "api-key",
                          "human_owner": "tester"}, os.urandom(60000))
            assert rep["ok"], rep
            before.append(f"big-{i}")
        bk = Conn(h.sock)
        msg, page = bk.call_secret({"verb": "backup", "with_audit": True})
        assert msg["ok"] and msg["offset"] == 0, msg
        vsize, asize = msg["vault_size"], msg["audit_size"]
        parts = {"vault": bytearray(), "audit": bytearray()}
        parts["vault"] += page
        n = 0
        while "next_cursor" in msg:
            # another client changes the vault between every two pages
            rep = c.call({"verb": "create", "name": f"later-{n}",
                          "credential_type": "api-key",
                          "human_owner": "tester"}, b"x" * 100)
            assert rep["ok"], rep
            n += 1
            msg, page = bk.call_secret({"verb": "backup",
                                        "cursor": msg["next_cursor"]})
            assert msg["ok"], msg
            assert msg["offset"] == len(parts[msg["file"]]), msg
            parts[msg["file"]] += page
        assert n >= 2, n
        assert len(parts["vault"]) == vsize and len(parts["audit"]) == asize
        # a cursor cannot reach back into the slot areas
        rep = bk.call({"verb": "backup", "cursor": {
            "run": "0" * 16, "file": "vault", "offset": 0,
            "vault_size": vsize, "audit_size": asize}})
        assert not rep["ok"], rep
        c.close()
        bk.close()
        with Home() as h2:
            os.makedirs(h2.home, mode=0o700)
            with open(os.path.join(h2.home, "vault.idw"), "wb") as fh:
                fh.write(parts["vault"])
            with open(os.path.join(h2.home, "audit.idw"), "wb") as fh:
                fh.write(parts["audit"])
            os.chmod(os.path.join(h2.home, "vault.idw"), 0o600)
            os.chmod(os.path.join(h2.home, "audit.idw"), 0o600)
            assert names(h2) == sorted(before)
            r = h2.idw("audit", "verify")
            assert r.returncode == 0, r.stdout + r.stderr


def test_restore_over_a_running_agent():
    with Home() as h:
        h.init()
        h.create("alpha", "value-a")
        f = os.path.join(h.tmp, "copy.idw")
        assert h.idw("backup", f).returncode == 0
        h.create("beta", "value-b")
        old_pid = h.agent_pid()
        mcp = mcp_start(h)
        cli = Conn(h.sock)
        t0 = time.time()
        r = restore(h, f, "--yes")
        assert r.returncode == 0, r.stderr
        out = r.stdout.decode()
        assert "re-anchored" in out, out
        # the raw client of the old agent sees its connection closed
        try:
            rep = cli.call({"verb": "status"})
            assert rep.get("pid") != old_pid, rep
        except (ConnectionError, OSError):
            pass
        # the MCP session answers at once, with an error or the new agent
        mcp_send(mcp, {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                       "params": {"name": "list_passports",
                                  "arguments": {}}})
        rep = mcp_read(mcp, 15)
        assert rep["id"] == 7, rep
        assert time.time() - t0 < 60
        mcp.stdin.close()
        mcp.wait(timeout=10)
        assert names(h) == ["alpha"]
        assert h.agent_pid() != old_pid
        kept = glob.glob(os.path.join(h.home, "vault.idw.replaced-*"))
        assert len(kept) == 1, os.listdir(h.home)
        assert os.stat(kept[0]).st_mode & 0o777 == 0o600
        r = h.idw("audit", "verify")
        assert r.returncode == 0, r.stdout + r.stderr
        assert b"re-anchored" in r.stdout, r.stdout
        r = h.idw("audit", "--action", "restore", "--json")
        assert r.returncode == 0 and b"BLAKE2b" in r.stdout, r.stdout
        # the kept vault is the newer one: it holds beta
        with Home() as h2:
            os.makedirs(h2.home, mode=0o700)
            os.link(kept[0], os.path.join(h2.home, "vault.idw"))
            assert names(h2) == ["alpha", "beta"]


def test_restore_refusals_change_nothing():
    with Home() as h:
        h.init()
        h.create("alpha", "value-a")
        f = os.path.join(h.tmp, "copy.idw")
        assert h.idw("backup", f).returncode == 0
        h.create("beta", "value-b")
        v = os.path.join(h.home, "vault.idw")
        pid = h.agent_pid()
        # without --yes on a stdin that is no terminal
        r = restore(h, f)
        assert r.returncode == 2 and b"--yes" in r.stderr, r.stderr
        # a wrong passphrase is no proof
        r = restore(h, f, "--yes", input=b"not the passphrase\n")
        assert r.returncode == 6, (r.returncode, r.stderr)
        # a backup of another vault
        with Home() as other:
            other.init()
            g = os.path.join(other.tmp, "other.idw")
            assert other.idw("backup", g).returncode == 0
            r = restore(h, g, "--yes")
            assert r.returncode == 1 and b"home of its own" in r.stderr, \
                r.stderr
        # not a vault at all
        junk = os.path.join(h.tmp, "junk")
        open(junk, "wb").write(b"hello")
        r = restore(h, junk, "--yes")
        assert r.returncode == 1 and b"not a vault backup" in r.stderr
        assert h.agent_pid() == pid
        assert names(h) == ["alpha", "beta"]
        assert not glob.glob(v + ".replaced-*")


def test_restore_into_an_empty_home():
    """A lost home: the backup and its audit copy are put in place."""
    with Home() as h:
        h.init()
        h.create("alpha", "value-a")
        f = os.path.join(h.tmp, "copy.idw")
        assert h.idw("backup", f).returncode == 0
        with Home() as h2:
            os.makedirs(h2.home, mode=0o700)
            r = restore(h2, f, "--yes")
            assert r.returncode == 0, r.stderr
            assert names(h2) == ["alpha"]
            r = h2.idw("audit", "verify")
            assert r.returncode == 0, r.stdout + r.stderr


run_cases([
    test_backup_writes_a_private_copy_and_warns,
    test_paged_copy_is_consistent_while_mutations_continue,
    test_restore_over_a_running_agent,
    test_restore_refusals_change_nothing,
    test_restore_into_an_empty_home,
])
