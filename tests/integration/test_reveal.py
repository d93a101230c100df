# SPDX-License-Identifier: ISC
"""Reveal policy and run profiles end to end: `idw init --reveal-default
never`, `idw get` refused (exit 3, a message that says how to use the
passport without seeing it) and served with person proof, `idw env` in its
three formats parsed back (a shell's eval, the .env grammar of DESIGN,
json.loads), `idw profile add|list|show|remove` with and without proof,
`idw config set reveal.default`, reveal shown by check and list, a raw
client served a `never` value only through a profile that pins it, and
idw-mcp's get_credential refusing it with the explanation.  No value
reaches the audit log, its export, or idw's stderr."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from idwtest import BIN, PASS, Conn, Home, need_bin, run_cases  # noqa: E402

need_bin()

NEVER = "gh-NEVER-\"quoted\" $HOME `x` \\back\nline2 'sq' \u00e9"
MODEL = "model-VALUE-9f8e7d"
NEVER2 = "second-never-5c4b"
VALUES = (NEVER, MODEL, NEVER2, "NEVER-IN", "model-VALUE", "second-never")


def idw(h, *args, stdin=None):
    """idw in its own session: no terminal, so it never prompts."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    r = subprocess.run([os.path.join(BIN, "idw"), *args], input=data,
                       env=h.env, cwd=h.tmp, capture_output=True,
                       timeout=120, start_new_session=True,
                       stdin=None if data is not None else subprocess.DEVNULL)
    err = r.stderr.decode(errors="replace")
    for v in VALUES:
        assert v not in err, (args, "a value on stderr", err)
    return r


def ok(h, *args, stdin=None):
    r = idw(h, *args, stdin=stdin)
    assert r.returncode == 0, (args, r.returncode, r.stderr.decode())
    return r.stdout.decode()


def proven(h, *args):
    """With person proof from stdin (the flag goes before any '--')."""
    args = list(args)
    at = args.index("--") if "--" in args else len(args)
    args.insert(at, "--passphrase-stdin")
    return idw(h, *args, stdin=PASS + "\n")


def setup(h):
    r = idw(h, "init", "--kdf", "interactive", "--reveal-default", "never")
    assert r.returncode == 0, r.stderr
    ids = {}
    for name, value, extra in (("gh", NEVER, ["--path", "dev"]),
                               ("plain", MODEL, ["--reveal", "model"]),
                               ("db", NEVER2, ["--path", "dev"])):
        ids[name] = ok(h, "create", "--name", name, "--type", "api-key",
                       *extra, stdin=value).strip()
    return ids


def dotenv_parse(text):
    """DESIGN's .env grammar: [export ]KEY=VALUE; double quotes know only
    \\\\ \\" \\n; single quotes are literal."""
    out = {}
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:]
        k, v = line.split("=", 1)
        if v.startswith('"'):
            i, s = 1, ""
            while v[i] != '"':
                if v[i] == "\\":
                    i += 1
                    s += {"n": "\n", "\\": "\\", '"': '"'}[v[i]]
                else:
                    s += v[i]
                i += 1
            assert v[i + 1:] == "", v
            v = s
        out[k] = v
    return out


def test_reveal_default_and_get():
    with Home() as h:
        ids = setup(h)
        assert json.loads(ok(h, "show", ids["gh"], "--json"))[
            "reveal"] == "never"
        assert json.loads(ok(h, "show", ids["plain"], "--json"))[
            "reveal"] == "model"
        assert ok(h, "config", "get", "reveal.default").find("never") >= 0
        # Without proof (no terminal, no --passphrase-stdin): exit 3.
        r = idw(h, "get", ids["gh"], "--purpose", "t")
        assert r.returncode == 3, r
        assert r.stdout == b""
        err = r.stderr.decode()
        assert "never revealed" in err and "idw profile add" in err and \
            "idw run --profile" in err, err
        # A wrong passphrase proves nothing.
        r = idw(h, "get", ids["gh"], "--purpose", "t", "--passphrase-stdin",
                stdin="wrong passphrase\n")
        assert r.returncode == 6 and r.stdout == b"", r
        # With proof, by id and by path/name.
        r = proven(h, "get", ids["gh"], "--purpose", "t")
        assert r.returncode == 0, r.stderr
        assert r.stdout.decode() == NEVER + "\n"
        r = proven(h, "get", "dev/gh", "--purpose", "t")
        assert r.stdout.decode() == NEVER + "\n", r.stderr
        # A model passport needs no proof.
        assert ok(h, "get", "plain", "--purpose", "t") == MODEL + "\n"
        # check and list show reveal.
        c = json.loads(ok(h, "check", ids["gh"], "--json"))
        assert c["reveal"] == "never", c
        lst = json.loads(ok(h, "list", "--json"))["passports"]
        assert {p["id"]: p["reveal"] for p in lst} == {
            ids["gh"]: "never", ids["plain"]: "model", ids["db"]: "never"}
        # config set reveal.default takes proof, then applies to create.
        r = idw(h, "config", "set", "reveal.default", "model")
        assert r.returncode == 6, r
        r = proven(h, "config", "set", "reveal.default", "maybe")
        assert r.returncode == 2, r
        r = proven(h, "config", "set", "reveal.default", "model")
        assert r.returncode == 0, r.stderr
        pid = ok(h, "create", "--name", "new", "--type", "api-key",
                 stdin="x").strip()
        assert json.loads(ok(h, "show", pid, "--json"))["reveal"] == "model"


def test_env_formats():
    with Home() as h:
        setup(h)
        pairs = ["A=dev/gh", "B=plain", "C=dev/db"]
        # The never ones are refused without a person.
        r = idw(h, "env", *pairs)
        assert r.returncode == 3 and r.stdout == b"", r
        assert "never revealed" in r.stderr.decode()
        want = {"A": NEVER, "B": MODEL, "C": NEVER2}
        r = proven(h, "env", "--format", "json", *pairs)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == want
        r = proven(h, "env", "--format", "dotenv", *pairs)
        assert r.returncode == 0, r.stderr
        assert dotenv_parse(r.stdout.decode()) == want
        r = proven(h, "env", "--format", "shell", *pairs)
        assert r.returncode == 0, r.stderr
        for var, value in want.items():
            got = subprocess.run(
                ["bash", "-c", f'eval "$OUT"; printf %s "${var}"'],
                env={"OUT": r.stdout.decode(), "PATH": "/usr/bin:/bin"},
                capture_output=True, check=True).stdout.decode()
            assert got == value, (var, got)
        # Model passports alone need no proof; the default is dotenv.
        assert dotenv_parse(ok(h, "env", "B=plain")) == {"B": MODEL}
        # Usage mistakes.
        assert idw(h, "env", "B").returncode == 2
        assert idw(h, "env", "IDW_X=plain").returncode == 2
        assert idw(h, "env", "B=plain", "B=plain").returncode == 2
        assert idw(h, "env", "--format", "yaml", "B=plain").returncode == 2
        assert idw(h, "env", "B=nothing/here").returncode == 1
        # One audit entry per value, saying how it left; no value.
        out = ok(h, "audit", "--json", "--limit", "500")
        for v in VALUES:
            assert v not in out
        entries = json.loads(out)["entries"]
        reasons = [e.get("reason") or "" for e in entries
                   if e.get("action") == "access"
                   and e.get("result") == "allowed"]
        assert sum("via env; var A; person proof" in x
                   for x in reasons) == 3, reasons
        assert sum("via env; var B" in x for x in reasons) == 5, reasons
        raw = open(os.path.join(h.home, "audit.idw"), "rb").read()
        for v in VALUES:
            assert v.encode() not in raw


def test_profiles():
    with Home() as h:
        ids = setup(h)
        env_bin = os.path.realpath("/usr/bin/env")
        # No person, no profile.
        r = idw(h, "profile", "add", "ghp", "--env", "TOKEN=dev/gh", "--",
                "env", "-0")
        assert r.returncode == 6, r
        r = proven(h, "profile", "add", "ghp", "--env", "TOKEN=dev/gh",
                   "--env", "PLAIN=" + ids["plain"], "--", "env", "-0",
                   "x y")
        assert r.returncode == 0, r.stderr
        assert "profile added" in r.stdout.decode()
        p = json.loads(ok(h, "profile", "show", "ghp", "--json"))
        assert p["program"] == env_bin, p
        assert p["args"] == ["-0", "x y"]
        assert p["env"] == {"TOKEN": ids["gh"], "PLAIN": ids["plain"]}
        assert {v["var"]: v["reveal"] for v in p["vars"]} == {
            "TOKEN": "never", "PLAIN": "model"}
        lst = json.loads(ok(h, "profile", "list", "--json"))["profiles"]
        assert [x["name"] for x in lst] == ["ghp"]
        assert "ghp" in ok(h, "profile", "list")
        # Names, programs and references are checked.
        assert proven(h, "profile", "add", "ghp", "--", "env").returncode \
            == 1
        assert proven(h, "profile", "add", "bad/name", "--",
                      "env").returncode in (1, 2)
        assert proven(h, "profile", "add", "x", "--",
                      "no-such-program-idw").returncode == 1
        assert proven(h, "profile", "add", "x", "--env", "T=dev/none", "--",
                      "env").returncode == 1
        assert proven(h, "profile", "add", "x").returncode == 2
        r = proven(h, "profile", "add", "ghp", "--replace", "--env",
                   "TOKEN=dev/db", "--", "/usr/bin/env")
        assert r.returncode == 0 and "replaced" in r.stdout.decode(), r
        p = json.loads(ok(h, "profile", "show", "ghp", "--json"))
        assert p["env"] == {"TOKEN": ids["db"]} and p["args"] == []

        # What `idw run --profile` asks: served only through the profile.
        c = Conn(h.sock)
        base = {"verb": "get", "purpose": "t", "via": "run"}
        rep, sec = c.call_secret(dict(base, id=ids["db"], var="TOKEN",
                                      profile="ghp"))
        assert rep["ok"] and sec == NEVER2.encode(), rep
        rep, sec = c.call_secret(dict(base, id=ids["db"], var="TOKEN"))
        assert rep["code"] == "denied" and rep["reveal"] == "never", rep
        assert sec is None
        rep, sec = c.call_secret(dict(base, id=ids["gh"], var="TOKEN",
                                      profile="ghp"))
        assert rep["code"] == "denied" and sec is None, rep
        rep = c.call({"verb": "profile_add", "name": "sneak",
                      "program": "/bin/sh", "env": {"T": ids["gh"]}})
        assert rep["code"] == "proof_failed", rep
        c.close()

        assert idw(h, "profile", "remove", "ghp").returncode == 6
        assert proven(h, "profile", "remove", "ghp").returncode == 0
        assert idw(h, "profile", "show", "ghp").returncode == 1
        assert "no profiles" in ok(h, "profile", "list")


def mcp(h, calls):
    """idw-mcp over stdio: initialize, then each call; the replies."""
    p = subprocess.Popen([os.path.join(BIN, "idw-mcp")], env=h.env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    out = []
    try:
        msgs = [{"jsonrpc": "2.0", "id": 0, "method": "initialize",
                 "params": {"protocolVersion": "2025-06-18",
                            "capabilities": {},
                            "clientInfo": {"name": "t", "version": "0"}}},
                {"jsonrpc": "2.0", "method": "notifications/initialized"}]
        msgs += [{"jsonrpc": "2.0", "id": i + 1, "method": m, "params": a}
                 for i, (m, a) in enumerate(calls)]
        for m in msgs:
            p.stdin.write((json.dumps(m) + "\n").encode())
            p.stdin.flush()
            if "id" in m:
                line = p.stdout.readline()
                assert line, p.stderr.read().decode()
                if m["id"]:
                    out.append(json.loads(line))
        return out
    finally:
        p.stdin.close()
        p.wait(timeout=10)


def test_mcp_never():
    with Home() as h:
        ids = setup(h)
        tool = "tools/call"
        got, chk, lst, res, plain = mcp(h, [
            (tool, {"name": "get_credential", "arguments": {
                "passport_id": ids["gh"], "purpose": "deploy"}}),
            (tool, {"name": "check_policy", "arguments": {
                "passport_id": ids["gh"]}}),
            (tool, {"name": "list_passports", "arguments": {}}),
            ("resources/read", {"uri": "passport://" + ids["gh"]}),
            (tool, {"name": "get_credential", "arguments": {
                "passport_id": ids["plain"], "purpose": "deploy"}}),
        ])
        r = got["result"]
        assert r["isError"] is True, r
        text = r["content"][0]["text"]
        assert "never revealed" in text and "idw run --profile" in text, text
        assert "idw profile add" in text or "idw mcp wrap" in text, text
        for v in VALUES:
            assert v not in json.dumps(got)
        assert chk["result"]["structuredContent"]["reveal"] == "never", chk
        reveals = {p["id"]: p["reveal"] for p in
                   lst["result"]["structuredContent"]["passports"]}
        assert reveals[ids["gh"]] == "never"
        assert reveals[ids["plain"]] == "model"
        body = json.loads(res["result"]["contents"][0]["text"])
        assert body["reveal"] == "never", body
        assert plain["result"]["structuredContent"]["credential"] == MODEL
        # The refusal is audited as such.
        out = ok(h, "audit", ids["gh"], "--json")
        assert any(e.get("reason") == "reveal: never" and
                   e.get("result") == "denied"
                   for e in json.loads(out)["entries"]), out


if __name__ == "__main__":
    run_cases([test_reveal_default_and_get, test_env_formats, test_profiles,
               test_mcp_never])
