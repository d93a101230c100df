# SPDX-License-Identifier: ISC
"""The audit trail, black box (docs/audit-format.md, README "Reading and
verifying the audit trail"): an entry deleted, moved, repeated, edited or
flipped is named by 'idw audit verify' where it is; a cut end is reported;
a cut vault journal is caught against the log's anchor entries and a cut
log against the vault's checkpoint; a full disk and a deleted log refuse
the release and release nothing, and once there is room again no entry is
lost; no value, token or passphrase reaches the file, 'idw audit' or the
audit:// resource; filters, pages and exports against a known sequence."""
import csv
import io
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from idwtest import BIN, PASS, Conn, Home, need_bin, run_cases, skip  # noqa: E402

need_bin()

HDR, ENTRY_HDR, CHAIN = 16, 52, 16
JOURNAL_OFF, REC_HDR = 12288, 36
FIELDS = ["seq", "time", "principal", "claimed_actor", "action",
          "passport_id", "platform", "purpose", "result", "reason"]
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")


def entries(path):
    """(offset, length, seq) of each entry of audit.idw."""
    with open(path, "rb") as f:
        img = f.read()
    out, off = [], HDR
    while off + ENTRY_HDR <= len(img):
        n = ENTRY_HDR + int.from_bytes(img[off:off + 4], "little") + CHAIN
        out.append((off, n, int.from_bytes(img[off + 4:off + 12], "little")))
        off += n
    return out


def records(path):
    """Byte offsets of the journal records of vault.idw."""
    with open(path, "rb") as f:
        img = f.read()
    out, off = [], JOURNAL_OFF
    while off + REC_HDR <= len(img):
        out.append(off)
        off += REC_HDR + int.from_bytes(img[off:off + 4], "little")
    return out


def audit_path(h):
    return os.path.join(h.home, "audit.idw")


def vault_path(h):
    return os.path.join(h.home, "vault.idw")


def ok(r):
    assert r.returncode == 0, (r.returncode, r.stderr.decode())
    return r


def audit_json(h, *args):
    return json.loads(ok(h.idw("audit", "--json", *args)).stdout)["entries"]


def verify(h):
    r = h.idw("audit", "verify", "--json")
    assert r.returncode in (0, 1), r.stderr.decode()
    v = json.loads(r.stdout)
    assert (r.returncode == 0) == v["intact"], (r.returncode, v)
    return v


def says(v, key, word):
    return any(word in s for s in v[key])


def get(h, pid, purpose):
    return h.idw("get", pid, "--purpose", purpose)


def stop(h):
    ok(h.idw("agent", "stop"))


def status(h):
    return json.loads(ok(h.idw("agent", "status", "--json")).stdout)


def setup(h, value="sk-live-AUDIT-VALUE-0001", *extra):
    h.init()
    return h.create("audited", value, "--platform", "openai", "--owner",
                    "alice", *extra)


def test_known_sequence_filters_and_exports():
    purposes = ["p1", "with, comma", 'say "hi"\nnext line',
                '=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)",
                "\x1b[31mred\u202eevil"]
    with Home() as h:
        a = setup(h)
        b = h.create("other", "sk-other-VALUE-0002", "--owner", "alice")
        for p in purposes:
            ok(get(h, a, p))
        ok(get(h, b, "b only"))
        ok(h.idw("suspend", a, "--reason", "paused"))
        r = get(h, a, "after suspend")
        assert r.returncode == 3 and r.stdout == b"", r
        all_ = audit_json(h, "--limit", "1000")
        for e in all_:
            assert list(e) == FIELDS, e
            assert RFC3339.match(e["time"]), e["time"]
        seqs = [e["seq"] for e in all_]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        acts = [e["action"] for e in all_]
        assert acts == (["init", "creation", "creation"] + ["access"] * 9 +
                        ["suspension", "access"]), acts
        assert [e["purpose"] for e in all_[3:11]] == purposes
        assert all_[-1]["result"] == "denied" and \
            all_[-1]["purpose"] == "after suspend"
        assert all(e["principal"] == "local" for e in all_)
        # one passport, found by its tag
        mine = audit_json(h, a, "--limit", "1000")
        assert [e["passport_id"] for e in mine] == [a] * len(mine)
        assert len(mine) == 1 + len(purposes) + 2
        assert [e["seq"] for e in audit_json(h, b)] == \
            [e["seq"] for e in all_ if e["passport_id"] == b]
        # filters
        den = audit_json(h, "--action", "access", "--result", "denied")
        assert [e["seq"] for e in den] == [all_[-1]["seq"]]
        assert audit_json(h, "--action", "denial") == den
        assert audit_json(h, "--principal", "local", "--limit",
                          "1000") == all_
        assert audit_json(h, "--principal", "token:nobody") == []
        assert audit_json(h, "--until", "2000-01-01") == []
        assert audit_json(h, "--since", "1h", "--limit", "1000") == all_
        assert audit_json(h, "--since", all_[0]["time"], "--limit",
                          "1000") == all_
        assert audit_json(h, "--limit", "3") == all_[-3:]
        assert len(audit_json(h)) == min(50, len(all_))
        # exports: every entry, oldest first
        exp = json.loads(ok(h.idw("audit", "--export", "json")).stdout)
        assert exp == all_
        rows = list(csv.reader(io.StringIO(
            ok(h.idw("audit", "--export", "csv")).stdout.decode(),
            newline="")))
        assert rows[0] == FIELDS and len(rows) == len(all_) + 1
        got = [r[FIELDS.index("purpose")] for r in rows[4:12]]
        guarded = ["'" + p if p[0] in "=+-@" else p for p in purposes]
        assert got == guarded, got
        for r in rows[1:]:
            for c in r:
                assert c == "" or c[0] not in "=+-@", r
        # the table escapes what a terminal would act on
        table = ok(h.idw("audit", a, "--limit", "1000")).stdout
        assert b"\x1b" not in table and "\u202e".encode() not in table
        assert b"\\x1b[31mred[U+202E]evil" in table, table
        assert b"say \"hi\"\\x0anext line" in table
        r = h.idw("audit", "--export", "xml")
        assert r.returncode == 2
        r = h.idw("audit", "--json", "--export", "csv")
        assert r.returncode == 2
        r = h.idw("audit", "--since", "yesterday-ish")
        assert r.returncode == 2


def test_pages_with_a_cursor_and_tags():
    with Home() as h:
        a = setup(h)
        b = h.create("other", "sk-other-VALUE-0003", "--owner", "alice")
        c = Conn(h.sock)
        for i in range(30):
            assert c.call({"verb": "get", "id": b, "purpose": f"b{i}"})["ok"]
        for i in range(3):
            assert c.call({"verb": "get", "id": a, "purpose": f"a{i}"})["ok"]
        everything = c.call({"verb": "audit", "limit": 500})["entries"]
        for order, step in (("newest", -1), ("oldest", 1)):
            seen, cursor = [], None
            for _ in range(100):
                req = {"verb": "audit", "limit": 7, "order": order}
                if cursor:
                    req["cursor"] = cursor
                rep = c.call(req)
                assert rep["ok"], rep
                assert len(rep["entries"]) <= 7
                seen += [e["seq"] for e in rep["entries"]]
                cursor = rep.get("next_cursor")
                if cursor is None:
                    break
            want = [e["seq"] for e in everything][::-step]
            assert seen == want, (order, seen)
        # one passport among many: only its entries are decrypted
        rep = c.call({"verb": "audit", "id": a, "limit": 2})
        assert [e["purpose"] for e in rep["entries"]] == ["a2", "a1"]
        assert rep["decrypted"] == 2, rep
        assert c.call({"verb": "audit", "cursor": "x"})["code"] == "usage"
        assert c.call({"verb": "audit", "order": "up"})["code"] == "usage"
        assert c.call({"verb": "audit", "since": "soon"})["code"] == "usage"


def mcp_read(env, uri):
    """resources/read over idw-mcp's stdio; the raw reply line."""
    p = subprocess.Popen([os.path.join(BIN, "idw-mcp")], env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        msgs = [{"jsonrpc": "2.0", "id": 1, "method": "initialize",
                 "params": {"protocolVersion": "2025-06-18",
                            "capabilities": {},
                            "clientInfo": {"name": "t", "version": "0"}}},
                {"jsonrpc": "2.0", "method": "notifications/initialized"},
                {"jsonrpc": "2.0", "id": 2, "method": "resources/read",
                 "params": {"uri": uri}}]
        line = b""
        for m in msgs:
            p.stdin.write((json.dumps(m) + "\n").encode())
            p.stdin.flush()
            if "id" in m:
                line = p.stdout.readline()
                assert line, p.stderr.read().decode()
        return line
    finally:
        p.stdin.close()
        p.wait(timeout=10)


def test_no_value_token_or_passphrase_anywhere():
    value = "sk-live-NEVER-IN-AUDIT-7f3a9c"
    crit = "crit-VALUE-NEVER-IN-AUDIT-c0ffee"
    with Home() as h:
        a = setup(h, value)
        c = h.create("crit", crit, "--owner", "alice", "--tier", "critical")
        assert ok(get(h, a, "read it")).stdout.strip() == value.encode()
        assert ok(get(h, c, "critical read")).stdout.strip() == crit.encode()
        r = ok(h.idw("auth", "token", "create", "--label", "aud",
                     "--ttl", "1h", "--passphrase-stdin",
                     input=(PASS + "\n").encode()))
        token = r.stdout.decode().strip()
        assert token.startswith("idwst_"), token
        t = Conn(h.sock, hello=False)
        t.hello = t.send(1, {"client": "test", "version": "0"},
                         token.encode())[2]
        assert t.hello["principal"].startswith("token:"), t.hello
        msg, sec = t.call_secret({"verb": "get", "id": a,
                                  "purpose": "by token"})
        assert msg["ok"] and sec == value.encode(), msg
        outputs = {
            "file": open(audit_path(h), "rb").read(),
            "table": ok(h.idw("audit", "--limit", "1000")).stdout,
            "json": ok(h.idw("audit", "--json", "--limit", "1000")).stdout,
            "csv": ok(h.idw("audit", "--export", "csv")).stdout,
            "export": ok(h.idw("audit", "--export", "json")).stdout,
            "verify": h.idw("audit", "verify", "--json").stdout,
        }
        # audit:// through idw-mcp, holding the token
        env = dict(h.env, IDW_SESSION_TOKEN=token)
        res = mcp_read(env, f"audit://{a}")
        doc = json.loads(json.loads(res)["result"]["contents"][0]["text"])
        assert doc["entries"] and [e["passport_id"] for e in
                                   doc["entries"]] == \
            [a] * len(doc["entries"]), doc
        assert any(e["purpose"] == "by token" for e in doc["entries"])
        outputs["resource"] = res
        assert any(b"read it" in v for k, v in outputs.items()
                   if k != "file"), "the outputs hold no entries at all"
        for name, data in outputs.items():
            for secret in (value, crit, token, PASS, token[6:]):
                assert secret.encode() not in data, (name, secret)
        # the token is named by its id, never by itself
        mine = audit_json(h, a, "--limit", "100")
        assert any(e["principal"] == t.hello["principal"] for e in mine)


def tamper_cases(img, ents):
    """(name, bytes, entry that verify must name), around entry 5."""
    o, n, _ = ents[4]
    nxt_o, nxt_n, _ = ents[5]
    body = bytearray(img)
    out = []
    out.append(("delete", img[:o] + img[o + n:], 5))
    out.append(("reorder", img[:o] + img[nxt_o:nxt_o + nxt_n] +
                img[o:o + n] + img[nxt_o + nxt_n:], 5))
    out.append(("duplicate", img[:o + n] + img[o:o + n] + img[o + n:], 6))
    for name, at in (("edit", o + ENTRY_HDR + 5), ("flip-seq", o + 4),
                     ("flip-tag", o + 12), ("flip-nonce", o + 30),
                     ("flip-chain", o + n - 1)):
        b = bytearray(body)
        b[at] ^= 0x04
        out.append((name, bytes(b), 5))
    return out


def test_verify_names_the_tampered_entry():
    with Home() as h:
        a = setup(h)
        for i in range(10):
            ok(get(h, a, f"use {i}"))
        v = verify(h)
        assert v["intact"] and v["breaks"] == 0, v
        stop(h)
        img = open(audit_path(h), "rb").read()
        vault = open(vault_path(h), "rb").read()
        ents = entries(audit_path(h))
        assert len(ents) > 8
        for name, data, want in tamper_cases(img, ents):
            with open(audit_path(h), "wb") as f:
                f.write(data)
            v = verify(h)
            assert not v["intact"], (name, v)
            assert v["first_bad"]["entry"] == want, (name, v["first_bad"])
            assert v["first_bad"]["offset"] == ents[want - 1][0], name
            stop(h)
            for path, orig in ((audit_path(h), img), (vault_path(h), vault)):
                with open(path, "wb") as f:
                    f.write(orig)
        assert verify(h)["intact"]


def test_cut_end_after_a_checkpoint():
    with Home() as h:
        a = setup(h)
        b = h.create("other", "sk-other-VALUE-0004", "--owner", "alice")
        for i in range(3):
            ok(get(h, a, f"tail {i}"))
        # the gets came after the last checkpoint: not vouched for yet
        v = verify(h)
        assert v["intact"] and v["unverified_tail"] == 3, v
        assert says(v, "notes", "not yet vouched for")
        # cut under the running agent: it knows how far it wrote
        ents = entries(audit_path(h))
        os.truncate(audit_path(h), ents[-2][0])
        v = verify(h)
        assert not v["intact"] and says(v, "problems", "while the agent "
                                        "ran"), v
        r = get(h, a, "after the cut")
        assert r.returncode == 3 and r.stdout == b"", r
        assert "cut" in status(h)["audit_error"]
        # after a crash, the start names the entries it cannot vouch for
        pid = h.agent_pid()
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.3)
        ok(h.idw("agent", "start"))
        ok(h.idw("suspend", b))  # a change: a checkpoint
        for i in range(3):
            ok(get(h, a, f"again {i}"))
        os.kill(h.agent_pid(), signal.SIGKILL)
        time.sleep(0.3)
        ents = entries(audit_path(h))
        os.truncate(audit_path(h), ents[-1][0])
        v = verify(h)
        assert v["intact"], v
        assert says(v, "notes", "had not stopped cleanly"), v
        # a cut below the checkpoint is a cut, proven by the vault
        stop(h)
        ents = entries(audit_path(h))
        os.truncate(audit_path(h), ents[-5][0])
        v = verify(h)
        assert not v["intact"] and says(v, "problems",
                                        "vault's checkpoint"), v
        assert "audit_anchor" in status(h)


def test_cut_vault_caught_by_the_log_and_back():
    with Home() as h:
        a = setup(h)
        h.create("other", "sk-other-VALUE-0005", "--owner", "alice")
        ok(get(h, a, "x"))
        stop(h)
        vault = open(vault_path(h), "rb").read()
        log = open(audit_path(h), "rb").read()
        recs = records(vault_path(h))
        for cut in (1, 3):
            os.truncate(vault_path(h), recs[-cut])
            v = verify(h)
            assert not v["intact"], v
            assert says(v, "problems", "vault's journal was cut"), v
            assert "cut" in status(h)["audit_anchor"]
            # the evidence stays: checkpoints stop until a re-anchor
            ok(h.idw("suspend", a))
            assert says(verify(h), "problems", "vault's journal was cut")
            stop(h)
            for path, orig in ((vault_path(h), vault), (audit_path(h), log)):
                with open(path, "wb") as f:
                    f.write(orig)
        assert verify(h)["intact"]


def fill_then_free(h, a, fill, free):
    """Gets until the log refuses; then room again. Returns the refused
    purposes."""
    pid = h.agent_pid()
    fill()
    refused = []
    for i in range(200):
        r = get(h, a, f"full {i}")
        if r.returncode != 0:
            assert r.returncode == 3 and r.stdout == b"", r
            refused.append(f"full {i}")
            if len(refused) == 2:
                break
    assert refused, "the log never refused"
    st = status(h)
    assert not st["audit_ok"] and st["audit_error"], st
    assert st["audit_held"] >= 2, st
    assert h.agent_pid() == pid, "the agent died"
    free()
    assert ok(get(h, a, "room again")).stdout.strip() == \
        b"sk-live-AUDIT-VALUE-0001"
    st = status(h)
    assert st["audit_ok"] and st["audit_held"] == 0, st
    mine = audit_json(h, a, "--limit", "1000")
    tail = mine[-3:]
    assert [e["purpose"] for e in tail] == refused + ["room again"], tail
    assert [e["result"] for e in tail] == ["denied", "denied", "allowed"]
    assert "nothing was released" in tail[0]["reason"]
    assert verify(h)["intact"]
    return st


def test_file_size_limit_refuses_then_heals():
    with Home() as h:
        a = setup(h)
        ok(h.idw("agent", "start"))
        pid = h.agent_pid()
        size = os.path.getsize(audit_path(h))
        hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)[1]

        def fill():
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (size + 400, hard))

        def free():
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))
        fill_then_free(h, a, fill, free)
        assert "size limit" in "".join(
            e["reason"] or "" for e in audit_json(h, a, "--limit", "100"))


def tmpfs_child(root):
    """In a private mount namespace: the home on a 2 MiB tmpfs."""
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=700",
                    "tmpfs", root], check=True)
    try:
        with Home() as h:
            h.home = os.path.join(root, "home")
            h.env["IDW_HOME"] = h.home
            a = setup(h)
            filler = os.path.join(root, "filler")

            def fill():
                fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
                try:
                    while os.write(fd, b"\1" * 4096) > 0:
                        pass
                except OSError:
                    pass
                os.close(fd)

            def free():
                os.unlink(filler)
            fill_then_free(h, a, fill, free)
            assert "no space" in "".join(
                e["reason"] or "" for e in audit_json(h, a, "--limit",
                                                      "100"))
            stop(h)
    finally:
        subprocess.run(["umount", "-l", root])


def test_full_tmpfs_refuses_then_heals():
    if os.geteuid() != 0 or not shutil.which("unshare"):
        print("  (skipped: needs root and unshare; RLIMIT_FSIZE case ran)")
        return
    root = tempfile.mkdtemp(prefix="idw-tmpfs-")
    try:
        r = subprocess.run(["unshare", "-m", "--propagation", "private",
                            sys.executable, __file__, "--tmpfs-child", root],
                           capture_output=True, timeout=240)
        if r.returncode == 77:
            print("  (skipped: no mount namespace here)")
            return
        if b"cannot change root filesystem propagation" in r.stderr:
            # a chroot whose / is no mount point: no private namespace
            print("  (skipped: / is not a mount point here, so no private "
                  "mount namespace; the RLIMIT_FSIZE case ran)")
            return
        assert r.returncode == 0, (r.stdout.decode(), r.stderr.decode())
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_deleted_log_refuses_until_restart():
    with Home() as h:
        a = setup(h)
        ok(get(h, a, "before"))
        os.unlink(audit_path(h))
        r = get(h, a, "deleted")
        assert r.returncode == 3 and r.stdout == b"", r
        assert b"audit log" in r.stderr
        st = status(h)
        assert not st["audit_ok"] and "no link" in st["audit_error"], st
        r = get(h, a, "still deleted")
        assert r.returncode == 3 and r.stdout == b""
        ok(h.idw("agent", "restart"))
        assert ok(get(h, a, "new log")).stdout.strip() == \
            b"sk-live-AUDIT-VALUE-0001"
        # the new log is not the one the vault vouched for
        v = verify(h)
        assert not v["intact"] and says(v, "problems", "checkpoint"), v


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--tmpfs-child":
        try:
            tmpfs_child(sys.argv[2])
        except subprocess.CalledProcessError:
            sys.exit(77)
        sys.exit(0)
    run_cases([
        test_known_sequence_filters_and_exports,
        test_pages_with_a_cursor_and_tags,
        test_no_value_token_or_passphrase_anywhere,
        test_verify_names_the_tampered_entry,
        test_cut_end_after_a_checkpoint,
        test_cut_vault_caught_by_the_log_and_back,
        test_file_size_limit_refuses_then_heals,
        test_full_tmpfs_refuses_then_heals,
        test_deleted_log_refuses_until_restart,
    ])
