# SPDX-License-Identifier: ISC
"""Governance end to end with the idw CLI and the raw protocol: a same-uid
client that claims to be a person without proof is refused for every verb
that takes proof, and changes nothing; purposes with escape sequences are
shown escaped by `idw approvals` (table and --json) and `idw approve`;
approve with a wrong passphrase exits 6 and the grant stays pending; deny,
grants revoke; rules (`idw policy list|add|enable|disable|remove`), every
passport field through `idw create` and `idw edit`, delegation depth and
narrowing, settings, and a token principal's grants and leases."""
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from idwtest import (BIN, HELLO, PASS, Conn, Home, need_bin,  # noqa: E402
                     run_cases)

need_bin()

NASTY = "deploy \x1b[31mRED\x1b[0m\x07 now \u202eevil\u202c \u200bzw"


def idw(h, *args, stdin=None, env=None):
    """idw in its own session (no terminal: it never prompts)."""
    e = dict(h.env)
    e.update(env or {})
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([os.path.join(BIN, "idw"), *args], input=data,
                          env=e, cwd=h.tmp, capture_output=True, timeout=60,
                          start_new_session=True,
                          stdin=None if data is not None
                          else subprocess.DEVNULL)


def ok(h, *args, stdin=None):
    r = idw(h, *args, stdin=stdin)
    assert r.returncode == 0, (args, r.returncode, r.stderr.decode())
    return r.stdout.decode()


def proven(h, *args, passphrase=PASS):
    return idw(h, *args, "--passphrase-stdin", stdin=passphrase + "\n")


def create(h, name, *extra, value="sk-value"):
    return ok(h, "create", "--name", name, "--type", "api-key", *extra,
              stdin=value).strip()


def show(h, pid):
    return json.loads(ok(h, "show", pid, "--json"))


def grants(h, status=None):
    out = json.loads(ok(h, "grants", "--json"))["grants"]
    return [g for g in out if status is None or g["status"] == status]


def rules(h):
    return {r["id"]: r for r in json.loads(ok(h, "policy", "list",
                                              "--json"))["rules"]}


def reset_gate(h):
    """A proof that holds resets the agent's failure delay."""
    r = proven(h, "config", "set", "approval.max_ttl", "8h")
    assert r.returncode == 0, r.stderr


def setup(h):
    h.init()
    return h


def test_raw_claimed_person_refused_everywhere():
    with Home() as h:
        setup(h)
        priv = create(h, "priv", "--visa", "privilege")
        plain = create(h, "plain")
        ok(h, "suspend", plain)
        c = Conn(h.sock, hello=False)
        # A hello that claims a person: recorded, never trusted.
        hello = c.send(HELLO, {"client": "idw", "version": "0.1.0",
                               "claimed_actor": "person (human owner)",
                               "person": True, "proof": "trust me"})[2]
        assert hello["ok"] and hello["principal"] == "local", hello
        g = c.call({"verb": "get", "id": priv, "purpose": "x"})
        assert g["code"] == "pending", g
        gid = g["grant_id"]
        rule = {"id": "allow-all", "name": "allow all", "effect": "allow",
                "priority": 10000, "condition": {}}
        cases = [
            {"verb": "resume", "id": plain},
            {"verb": "edit", "id": priv, "visa": {"type": "access"}},
            {"verb": "delegate", "id": priv, "from": "a", "to": "b",
             "scope": ["r"]},
            {"verb": "policy_add", "rule": rule},
            {"verb": "policy_disable", "id":
             "privilege-visa-requires-approval"},
            {"verb": "policy_enable", "id": "require-human-owner"},
            {"verb": "policy_remove", "id": "require-human-owner"},
            {"verb": "approve", "id": gid, "passport": priv, "ttl_s": 60},
            {"verb": "config_set", "key": "approval.elicitation",
             "value": "on"},
            {"verb": "token_create", "label": "x", "ttl_s": 60},
            {"verb": "login"},
        ]
        before = (rules(h), show(h, priv), show(h, plain))
        for req in cases:
            for proof in (None, {"challenge": "00" * 32,
                                 "signature": "00" * 64},
                          {"person": True}):
                body = dict(req)
                if proof is not None:
                    body["proof"] = proof
                rep = c.call(body)
                assert rep["ok"] is False and rep["code"] == "proof_failed", \
                    (body, rep)
                reset_gate(h)
            # A challenge in hand is not a proof either.
            ch = c.call({"verb": "challenge", "for": req["verb"]})
            assert ch["ok"], ch
            body = dict(req, proof={"challenge": ch["challenge"],
                                    "signature": "ab" * 64})
            rep = c.call(body)
            assert rep["code"] == "proof_failed", (body, rep)
            reset_gate(h)
        # Nothing changed: rules, passports, the grant, the settings.
        assert (rules(h), show(h, priv), show(h, plain)) == before
        assert [x["id"] for x in grants(h, "pending")] == [gid]
        assert ok(h, "config", "get", "approval.elicitation").strip() == "off"
        toks = ok(h, "auth", "token", "list", "--json")
        assert "\"x\"" not in toks
        c.close()


def test_purpose_escaped():
    with Home() as h:
        setup(h)
        priv = create(h, "priv", "--visa", "privilege")
        c = Conn(h.sock)
        rep = c.call({"verb": "request_access", "id": priv,
                      "purpose": NASTY, "scope": []})
        assert rep["status"] == "pending", rep
        c.close()
        out = ok(h, "approvals")
        assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
        assert "\\x1b[31mRED\\x1b[0m\\x07" in out, out
        assert "[U+202E]evil[U+202C]" in out and "[U+200B]zw" in out, out
        js = ok(h, "approvals", "--json")
        for raw in ("\x1b", "\x07", "\u202e", "\u200b"):
            assert raw not in js, repr(js)
        assert "\\u001b" in js and "\\u202e" in js and "\\u200b" in js, js
        # Escaped for the terminal, exact for a JSON reader.
        assert json.loads(js)["grants"][0]["purpose"] == NASTY
        # approve shows it escaped before it asks for the passphrase.
        gid = json.loads(js)["grants"][0]["id"]
        r = proven(h, "approve", gid, passphrase="wrong passphrase")
        assert r.returncode == 6, r
        shown = r.stdout.decode()
        assert "\x1b" not in shown and "\\x1b[31mRED" in shown, shown
        for word in (gid, priv, "tier", "principal", "local", "purpose",
                     "ttl", "15m"):
            assert word in shown, (word, shown)


def test_approve_deny_revoke():
    with Home() as h:
        setup(h)
        priv = create(h, "priv", "--visa", "privilege", "--path", "prod/x",
                      "--tier", "sensitive", value="sk-priv")
        r = idw(h, "get", priv, "--purpose", "deploy")
        assert r.returncode == 4, r
        (g,) = grants(h, "pending")
        assert g["id"] in r.stderr.decode()
        assert f"idw approve {g['id']}" in r.stderr.decode()
        # A wrong passphrase: exit 6, still pending, nothing released.
        r = proven(h, "approve", g["id"], passphrase="not the passphrase")
        assert r.returncode == 6, r
        assert [x["id"] for x in grants(h, "pending")] == [g["id"]]
        assert idw(h, "get", priv, "--purpose", "deploy").returncode == 4
        reset_gate(h)
        r = proven(h, "approve", g["id"], "--ttl", "10m", "--reason", "ok")
        assert r.returncode == 0, r.stderr
        out = r.stdout.decode()
        for word in ("prod/x", "sensitive", "deploy", "local", "10m"):
            assert word in out, (word, out)
        assert ok(h, "get", priv, "--purpose", "deploy").strip() == "sk-priv"
        (lease,) = grants(h, "approved")
        assert lease["ttl_s"] == 600 and lease["decided_by"] == "local"
        # A TTL over approval.max_ttl is refused.
        priv2 = create(h, "priv2", "--visa", "privilege")
        idw(h, "get", priv2, "--purpose", "x")
        (g2,) = grants(h, "pending")
        assert proven(h, "approve", g2["id"], "--ttl", "9h").returncode == 2
        # Deny: refused with the person's reason, and it holds.
        r = idw(h, "deny", g2["id"])
        assert r.returncode == 2
        ok(h, "deny", g2["id"], "--reason", "not today")
        r = idw(h, "get", priv2, "--purpose", "x")
        assert r.returncode == 3 and "not today" in r.stderr.decode(), r
        # Revoke the lease: refused again at once.
        ok(h, "grants", "revoke", lease["id"])
        assert idw(h, "get", priv, "--purpose", "deploy").returncode == 4
        assert idw(h, "grants", "revoke", lease["id"]).returncode == 1
        # Every decision is in the audit log, with principal and reason.
        c = Conn(h.sock)
        ent = c.call({"verb": "audit", "limit": 100})["entries"]
        c.close()
        seen = {(e["action"], e["result"]) for e in ent}
        for want in (("access", "pending"), ("approval", "approved"),
                     ("approval", "denied"), ("access", "allowed"),
                     ("access", "denied"), ("grant revocation", "revoked")):
            assert want in seen, (want, seen)
        assert all(e["principal"] == "local" for e in ent
                   if e["action"] in ("approval", "access"))
        assert any("not today" in (e.get("reason") or "") for e in ent)


def test_policy_cli():
    with Home() as h:
        setup(h)
        rs = rules(h)
        assert set(rs) == {"require-human-owner", "max-validity-90-days",
                           "max-delegation-depth-3",
                           "privilege-visa-requires-approval"}
        assert [r["priority"] for r in json.loads(
            ok(h, "policy", "list", "--json"))["rules"]] == [100, 90, 80, 70]
        assert "require-human-owner" in ok(h, "policy", "list")
        pid = create(h, "gcp", "--platform", "gcp")
        assert idw(h, "check", pid).returncode == 0
        path = os.path.join(h.tmp, "rule.json")
        with open(path, "w") as f:
            json.dump({"id": "no-gcp", "name": "no gcp", "effect": "deny",
                       "priority": 95, "condition": {"platforms": ["gcp"]}},
                      f)
        r = proven(h, "policy", "add", "--file", path,
                   passphrase="wrong passphrase")
        assert r.returncode == 6 and "no-gcp" not in rules(h)
        reset_gate(h)
        r = proven(h, "policy", "add", "--file", path)
        assert r.returncode == 0, r.stderr
        r = idw(h, "check", pid, "--json")
        assert r.returncode == 3
        d = json.loads(r.stdout)
        assert d["effect"] == "deny" and d["rule"] == "no-gcp"
        assert [v["rule"] for v in d["violations"]] == ["no-gcp"]
        assert idw(h, "get", pid, "--purpose", "x").returncode == 3
        assert proven(h, "policy", "add", "--file", path).returncode == 1
        assert proven(h, "policy", "disable", "no-gcp").returncode == 0
        assert rules(h)["no-gcp"]["enabled"] is False
        assert idw(h, "check", pid).returncode == 0
        assert proven(h, "policy", "enable", "no-gcp").returncode == 0
        assert idw(h, "check", pid).returncode == 3
        assert proven(h, "policy", "remove", "no-gcp").returncode == 0
        assert "no-gcp" not in rules(h)
        assert idw(h, "check", pid).returncode == 0
        assert proven(h, "policy", "remove", "no-gcp").returncode == 1
        # A misspelt matcher is refused, not stored as match-everything.
        with open(path, "w") as f:
            json.dump({"name": "x", "effect": "deny", "priority": 1,
                       "condition": {"platform": ["gcp"]}}, f)
        r = proven(h, "policy", "add", "--file", path)
        assert r.returncode == 2 and b"platform" in r.stderr, r
        with open(path, "w") as f:
            f.write("{not json")
        assert proven(h, "policy", "add", "--file", path).returncode == 2
        # Rules live in the vault: a new agent sees them.
        ok(h, "agent", "restart")
        assert proven(h, "policy", "disable",
                      "require-human-owner").returncode == 0
        ok(h, "agent", "restart")
        assert rules(h)["require-human-owner"]["enabled"] is False
        c = Conn(h.sock)
        ent = c.call({"verb": "audit", "limit": 50})["entries"]
        c.close()
        changes = [e["reason"] for e in ent if e["action"] == "policy change"]
        assert any("no-gcp added" in x for x in changes), changes
        assert any("no-gcp removed" in x for x in changes), changes


def test_create_and_edit_every_field():
    with Home() as h:
        setup(h)
        pid = create(h, "full", "--platform", "openai,azure", "--visa",
                     "data", "--scope", "r,w", "--issuer", "corp-ca",
                     "--owner", "alice", "--agent", "token:0123456789ab",
                     "--valid-from", "2026-01-01", "--valid-until",
                     "2026-03-01", "--path", "prod/openai", "--tag", "t1",
                     "--notes", "n1", "--tier", "sensitive", "--reveal",
                     "never")
        p = show(h, pid)
        assert p["visa"] == {"type": "data", "issuing_authority": "corp-ca",
                             "scope": ["r", "w"]}
        assert p["platforms"] == ["openai", "azure"]
        assert (p["human_owner"], p["agent_id"], p["path"], p["tags"],
                p["notes"], p["access_tier"], p["reveal"]) == (
            "alice", "token:0123456789ab", "prod/openai", ["t1"], "n1",
            "sensitive", "never")
        assert p["valid_from"] == "2026-01-01T00:00:00Z"
        assert p["valid_until"] == "2026-03-01T23:59:59Z"
        # Edit takes proof: a wrong passphrase changes nothing.
        r = proven(h, "edit", pid, "--name", "other",
                   passphrase="wrong passphrase")
        assert r.returncode == 6 and show(h, pid)["name"] == "full"
        reset_gate(h)
        start = datetime.now(timezone.utc).date() - timedelta(days=1)
        r = proven(h, "edit", pid, "--name", "renamed", "--type", "password",
                   "--platform", "gcp", "--visa", "privilege", "--scope",
                   "r", "--issuer", "other-ca", "--owner", "bob", "--agent",
                   "token:aaaaaaaaaaaa", "--valid-from", start.isoformat(),
                   "--valid-days", "30", "--path", "dev/x", "--tag", "a,b",
                   "--notes", "n2", "--tier", "critical", "--reveal",
                   "model")
        assert r.returncode == 0, r.stderr
        p = show(h, pid)
        assert (p["name"], p["credential_type"], p["platforms"],
                p["visa"], p["human_owner"], p["agent_id"], p["path"],
                p["tags"], p["notes"], p["access_tier"], p["reveal"]) == (
            "renamed", "password", ["gcp"],
            {"type": "privilege", "issuing_authority": "other-ca",
             "scope": ["r"]}, "bob", "token:aaaaaaaaaaaa", "dev/x",
            ["a", "b"], "n2", "critical", "model")
        assert p["valid_from"] == f"{start.isoformat()}T00:00:00Z"
        assert p["valid_until"] == \
            f"{(start + timedelta(days=30)).isoformat()}T00:00:00Z"
        r = proven(h, "edit", pid, "--clear", "platforms,tags,agent,owner,"
                   "notes,issuer,path,scope")
        assert r.returncode == 0, r.stderr
        assert b"require-human-owner" in r.stderr  # warned: no owner now
        p = show(h, pid)
        assert (p["platforms"], p["tags"], p["agent_id"], p["human_owner"],
                p["notes"], p["path"], p["visa"]["issuing_authority"],
                p["visa"]["scope"]) == ([], [], None, None, "", "", "", [])
        assert proven(h, "edit", pid).returncode == 2
        assert proven(h, "edit", pid, "--tier", "gold").returncode == 2
        assert proven(h, "edit", pid, "--notes", "x", "--clear",
                      "notes").returncode == 2
        ok(h, "revoke", pid, "--reason", "done")
        assert proven(h, "edit", pid, "--name", "x").returncode == 3
        # A passport valid for more than 90 days: created, then denied.
        long = create(h, "long", "--valid-until", "2099-12-31")
        r = idw(h, "get", long, "--purpose", "x")
        assert r.returncode == 3 and b"max-validity-90-days" in r.stderr


def test_delegation_cli():
    with Home() as h:
        setup(h)
        pid = create(h, "d", "--scope", "read,write,admin")
        r = proven(h, "delegate", pid, "--from", "alice", "--to", "team",
                   "--scope", "read,write", "--until", "2099-01-01",
                   "--notes", "q1")
        assert r.returncode == 0, r.stderr
        # Narrowing only, and the chain must continue.
        assert proven(h, "delegate", pid, "--from", "team", "--to", "bot",
                      "--scope", "admin").returncode == 2
        assert proven(h, "delegate", pid, "--from", "alice", "--to", "bot",
                      "--scope", "read").returncode == 2
        assert proven(h, "delegate", pid, "--from", "team", "--to",
                      "bot").returncode == 2
        assert proven(h, "delegate", pid, "--from", "team", "--to", "bot",
                      "--scope", "read,write").returncode == 0
        assert proven(h, "delegate", pid, "--from", "bot", "--to", "sub",
                      "--scope", "read").returncode == 0
        p = show(h, pid)
        assert [x["to"] for x in p["delegation"]] == ["team", "bot", "sub"]
        assert p["delegation"][0]["expires_at"] == "2099-01-01T23:59:59Z"
        assert p["delegation"][0]["notes"] == "q1"
        # Effective scope = intersection: write is no longer in it.
        c = Conn(h.sock)
        rep = c.call({"verb": "request_access", "id": pid, "purpose": "x",
                      "scope": ["write"]})
        assert rep["status"] == "denied" and "'write'" in rep["reason"], rep
        rep = c.call({"verb": "request_access", "id": pid, "purpose": "x",
                      "scope": ["read"]})
        assert rep["status"] == "approved", rep
        c.close()
        # Depth 3 by the default rule.
        r = proven(h, "delegate", pid, "--from", "sub", "--to", "x",
                   "--scope", "read")
        assert r.returncode == 2 and b"at most 3" in r.stderr, r
        assert proven(h, "policy", "disable",
                      "max-delegation-depth-3").returncode == 0
        assert proven(h, "delegate", pid, "--from", "sub", "--to", "x",
                      "--scope", "read").returncode == 0
        assert proven(h, "policy", "enable",
                      "max-delegation-depth-3").returncode == 0
        r = idw(h, "check", pid, "--json")
        assert r.returncode == 3
        assert json.loads(r.stdout)["rule"] == "max-delegation-depth-3"
        assert proven(h, "edit", pid, "--clear",
                      "delegation").returncode == 0
        assert show(h, pid)["delegation"] == []
        assert idw(h, "check", pid).returncode == 0


def test_settings():
    with Home() as h:
        setup(h)
        assert ok(h, "config", "get", "approval.elicitation").strip() == "off"
        assert "approval.max_ttl" in ok(h, "config", "get")
        r = proven(h, "config", "set", "approval.elicitation", "on",
                   passphrase="wrong passphrase")
        assert r.returncode == 6
        assert ok(h, "config", "get", "approval.elicitation").strip() == "off"
        reset_gate(h)
        assert proven(h, "config", "set", "approval.elicitation",
                      "on").returncode == 0
        assert ok(h, "config", "get", "approval.elicitation").strip() == "on"
        assert proven(h, "config", "set", "approval.elicitation",
                      "maybe").returncode == 2
        assert proven(h, "config", "set", "approval.max_ttl",
                      "31d").returncode == 2
        assert proven(h, "config", "set", "no.such", "x").returncode == 2
        assert idw(h, "config", "get", "no.such").returncode == 1
        # Not every config record is a setting: the audit key is not.
        c = Conn(h.sock)
        rep = c.call({"verb": "config_get", "key": "audit_key"})
        assert rep["code"] == "not_found", rep
        c.close()


def hello_with_token(h, token):
    c = Conn(h.sock, hello=False)
    rep = c.send(HELLO, {"client": "test", "version": "0"},
                 token.encode())[2]
    assert rep["ok"], rep
    return c, rep["principal"]


def test_token_principals():
    with Home() as h:
        setup(h)
        priv = create(h, "priv", "--visa", "privilege", value="sk-tok")
        toks = []
        for label in ("a", "b"):
            r = proven(h, "auth", "token", "create", "--label", label,
                       "--ttl", "1h", "--auth-only")
            assert r.returncode == 0, r.stderr
            toks.append(r.stdout.decode().strip())
        ca, pa = hello_with_token(h, toks[0])
        cb, pb = hello_with_token(h, toks[1])
        assert pa.startswith("token:") and pa != pb
        g = ca.call({"verb": "get", "id": priv, "purpose": "a needs it"})
        assert g["code"] == "pending", g
        assert g["grant"]["principal"] == pa
        # b sees none of a's grants and cannot answer them.
        assert cb.call({"verb": "grants"})["grants"] == []
        assert cb.call({"verb": "deny", "id": g["grant_id"],
                        "reason": "x"})["code"] == "not_found"
        r = proven(h, "approve", g["grant_id"], "--ttl", "5m")
        assert r.returncode == 0, r.stderr
        assert pa in r.stdout.decode()
        msg, sec = ca.call_secret({"verb": "get", "id": priv,
                                   "purpose": "a needs it"})
        assert msg["ok"] and sec == b"sk-tok", msg
        # The lease is a's alone.
        for c in (cb,):
            rep = c.call({"verb": "get", "id": priv, "purpose": "b too"})
            assert rep["code"] == "pending", rep
        assert idw(h, "get", priv, "--purpose", "local").returncode == 4
        # agent_id binds a passport to one principal.
        bound = create(h, "bound", "--agent", pa, value="sk-bound")
        msg, sec = ca.call_secret({"verb": "get", "id": bound,
                                   "purpose": "x"})
        assert msg["ok"] and sec == b"sk-bound"
        assert cb.call({"verb": "get", "id": bound,
                        "purpose": "x"})["code"] == "denied"
        assert idw(h, "get", bound, "--purpose", "x").returncode == 3
        ca.close()
        cb.close()


run_cases([
    test_raw_claimed_person_refused_everywhere,
    test_purpose_escaped,
    test_approve_deny_revoke,
    test_policy_cli,
    test_create_and_edit_every_field,
    test_delegation_cli,
    test_settings,
    test_token_principals,
])
