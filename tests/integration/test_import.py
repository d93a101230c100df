# SPDX-License-Identifier: ISC
"""idw export and idw import end to end: metadata export; export with
values takes proof and round-trips through import into a fresh vault with
the same metadata and values; .env import with --path; malformed export
and .env files import nothing and name each bad line; --mcp-config on a
Claude Desktop config and a Claude Code .mcp.json makes passports and a
run profile per server and rewrites the file, keeping a byte-identical
backup; a value never shows in idw's stderr, argv or the audit file."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from idwtest import BIN, PASS, Home, need_bin, run_cases  # noqa: E402

need_bin()

V1 = "sk-live-Export\"Quote\\Back\nNewline-\u00e9-\U0001F600-val1"
V2 = b"\x00\x01\xffbinary-value-2\x80"
DOT_A = "dotenv-secret-AAAA-1234"
DOT_B = "dotenv secret with # and 'quotes'"
MCP_GH = "ghp_mcpDesktopSecret0123456789"
MCP_SL = "xoxb-slack-secret-987654"
MCP_CC = "cc-mcp-json-secret-5555"


def idw(h, *args, stdin=None, cwd=None):
    """idw in its own session (no terminal: it never prompts)."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([os.path.join(BIN, "idw"), *args], input=data,
                          env=h.env, cwd=cwd or h.tmp, capture_output=True,
                          timeout=120, start_new_session=True,
                          stdin=None if data is not None
                          else subprocess.DEVNULL)


def ok(h, *args, stdin=None):
    r = idw(h, *args, stdin=stdin)
    assert r.returncode == 0, (args, r.returncode, r.stderr.decode())
    return r


def proven(h, *args, stdin_extra=b""):
    return idw(h, *args, "--passphrase-stdin",
               stdin=(PASS + "\n").encode() + stdin_extra)


def passports(h):
    return json.loads(ok(h, "list", "--json").stdout)["passports"]


def get(h, pid):
    r = ok(h, "get", pid, "--purpose", "test")
    assert r.stdout.endswith(b"\n")
    return r.stdout[:-1]


def audit_bytes(h):
    with open(os.path.join(h.home, "audit.idw"), "rb") as f:
        return f.read()


def assert_no_secret(h, blobs, secrets):
    """No secret in what idw printed on stderr, nor in the audit file."""
    audit = audit_bytes(h)
    for s in secrets:
        b = s.encode() if isinstance(s, str) else s
        for blob in blobs:
            assert b not in blob, ("a value leaked", blob[:200])
        assert b not in audit


def scratch():
    """A private directory that outlives one Home (removed at exit)."""
    d = tempfile.mkdtemp(prefix="idw-import-")
    os.chmod(d, 0o700)
    SCRATCH.append(d)
    return d


SCRATCH = []


def vault(h):
    h.init()
    return h


def seeded():
    h = vault(Home())
    p1 = h.create("OpenAI Production", V1, "--path", "prod/openai",
                  "--platform", "openai", "--tag", "team-a", "--notes",
                  "rotated monthly", "--tier", "sensitive")
    p2 = h.create("Binary", V2, "--path", "prod/bin", "--reveal", "model")
    ok(h, "suspend", p2, "--reason", "paused for the test")
    return h, p1, p2


def test_export_metadata():
    h, p1, p2 = seeded()
    with h:
        r = ok(h, "export", "--format", "json")
        doc = json.loads(r.stdout)
        assert doc["format"] == "idw-export" and doc["version"] == 1
        assert doc["with_values"] is False
        ids = sorted(e["passport"]["id"] for e in doc["passports"])
        assert ids == sorted([p1, p2])
        for e in doc["passports"]:
            assert "value" not in e and "value_base64" not in e
        # One passport a line, as import reads it.
        lines = r.stdout.decode().splitlines()
        assert len(lines) == 4, lines
        assert_no_secret(h, [r.stdout, r.stderr], [V1, V2])


def test_export_values_needs_proof():
    h, p1, p2 = seeded()
    with h:
        out = os.path.join(h.tmp, "x.json")
        r = idw(h, "export", "--with-values", "--output", out)
        assert r.returncode == 6, r.stderr
        assert not os.path.exists(out)
        r = idw(h, "export", "--with-values", "--output", out,
                "--passphrase-stdin", stdin="wrong passphrase!\n")
        assert r.returncode == 6, r.stderr
        assert not os.path.exists(out)


def test_export_import_round_trip():
    h, p1, p2 = seeded()
    with h:
        out = os.path.join(scratch(), "export.json")
        r = proven(h, "export", "--format", "json", "--with-values",
                   "--output", out)
        assert r.returncode == 0, r.stderr
        assert os.stat(out).st_mode & 0o777 == 0o600
        doc = json.load(open(out, "rb"))
        assert doc["with_values"] is True and len(doc["passports"]) == 2
        # Existing file: refused, never overwritten.
        r2 = proven(h, "export", "--with-values", "--output", out)
        assert r2.returncode != 0
        before = {p["id"]: p for p in passports(h)}
        assert_no_secret(h, [r.stderr, r2.stderr], [V1, V2])

    with vault(Home()) as g:
        r = proven(g, "import", out)
        assert r.returncode == 0, r.stderr
        after = {p["id"]: p for p in passports(g)}
        assert after == before, (after, before)
        assert get(g, p1) == V1.encode()
        # A suspended passport stays suspended; its value came along.
        assert after[p2]["status"] == "suspended"
        ok(g, "resume", p2, "--passphrase-stdin", stdin=PASS + "\n")
        assert get(g, p2) == V2
        # Again: every passport exists, so nothing; --skip-existing: ok.
        r = proven(g, "import", out)
        assert r.returncode == 1 and b"already" in r.stderr, r.stderr
        assert len(passports(g)) == 2
        r = proven(g, "import", out, "--skip-existing")
        assert r.returncode == 0, r.stderr
        assert len(passports(g)) == 2
        assert_no_secret(g, [r.stderr], [V1, V2])


def test_import_needs_proof():
    with vault(Home()) as h:
        env = os.path.join(h.tmp, "a.env")
        with open(env, "w") as f:
            f.write(f"A_KEY={DOT_A}\n")
        r = idw(h, "import", "--dotenv", env)
        assert r.returncode == 6, r.stderr
        r = idw(h, "import", "--dotenv", env, "--passphrase-stdin",
                stdin="not the passphrase\n")
        assert r.returncode == 6, r.stderr
        assert passports(h) == []


def test_dotenv_with_path():
    with vault(Home()) as h:
        env = os.path.join(h.tmp, "app.env")
        with open(env, "w") as f:
            f.write("# app settings\n"
                    f"export A_KEY={DOT_A}\n"
                    f"B_TOKEN=\"{DOT_B}\"  # comment\n\n")
        r = proven(h, "import", "--dotenv", env, "--path", "staging/app")
        assert r.returncode == 0, r.stderr
        pp = {p["name"]: p for p in passports(h)}
        assert set(pp) == {"A_KEY", "B_TOKEN"}, pp
        for p in pp.values():
            assert p["path"] == "staging/app"
            assert p["credential_type"] == "api-key"
            assert p["human_owner"]
        assert get(h, pp["A_KEY"]["id"]) == DOT_A.encode()
        assert get(h, pp["B_TOKEN"]["id"]) == DOT_B.encode()
        assert_no_secret(h, [r.stderr], [DOT_A, DOT_B])


def test_malformed_dotenv_names_each_line():
    with vault(Home()) as h:
        env = os.path.join(h.tmp, "bad.env")
        with open(env, "w") as f:
            f.write(f"GOOD={DOT_A}\n"        # 1
                    "not a pair\n"           # 2
                    "Q=\"open\n"             # 3
                    "GOOD=again\n"           # 4: twice
                    "OK2=fine\n")            # 5
        r = proven(h, "import", "--dotenv", env)
        err = r.stderr.decode()
        assert r.returncode == 1, err
        for n in (2, 3, 4):
            assert f"line {n}:" in err, err
        for n in (1, 5):
            assert f"line {n}:" not in err, err
        assert "nothing imported" in err
        assert passports(h) == []
        assert_no_secret(h, [r.stderr], [DOT_A])


def test_malformed_export_names_each_line():
    h, p1, p2 = seeded()
    with h:
        out = os.path.join(scratch(), "export.json")
        r = proven(h, "export", "--with-values", "--output", out)
        assert r.returncode == 0, r.stderr
        good = open(out).read().splitlines()
    # header, item, item, ]} -> break item 3 and add a bad line.
    lines = list(good)
    cut = lines[2].rfind(',"value')
    lines[2] = lines[2][:cut] + ',"valu' + lines[2][cut + len(',"value'):]
    lines.insert(2, '{"passport":{"name":"x"},"value":"a\\qb"},')
    bad = os.path.join(os.path.dirname(out), "bad.json")
    with open(bad, "w") as f:
        f.write("\n".join(lines) + "\n")
    with vault(Home()) as g:
        r = proven(g, "import", bad)
        err = r.stderr.decode()
        assert r.returncode == 1, err
        assert "line 3:" in err and "line 4:" in err, err
        assert "line 2:" not in err, err
        assert passports(g) == []
        # Cut short: named too.
        with open(bad, "w") as f:
            f.write("\n".join(good[:3]) + "\n")
        r = proven(g, "import", bad)
        assert r.returncode == 1 and b"line 3:" in r.stderr, r.stderr
        assert passports(g) == []
        # A passport the agent refuses (a bad type) names its line too.
        broken = list(good)
        broken[2] = broken[2].replace('"credential_type":"',
                                      '"credential_type":"zz', 1)
        with open(bad, "w") as f:
            f.write("\n".join(broken) + "\n")
        r = proven(g, "import", bad)
        assert r.returncode == 1 and b"line 3:" in r.stderr, r.stderr
        assert passports(g) == []
        assert_no_secret(g, [r.stderr], [V1, V2])


def mcp_case(cfg_name, cfg, secrets, servers):
    with vault(Home()) as h:
        path = os.path.join(h.tmp, cfg_name)
        raw = json.dumps(cfg, indent=2).encode()
        with open(path, "wb") as f:
            f.write(raw)
        os.chmod(path, 0o640)
        r = proven(h, "import", "--mcp-config", path)
        assert r.returncode == 0, r.stderr
        bak = path + ".idw-bak"
        assert open(bak, "rb").read() == raw
        assert os.stat(bak).st_mode & 0o777 == 0o600
        assert os.stat(path).st_mode & 0o777 == 0o640
        new = open(path, "rb").read()
        for s in secrets:
            assert s.encode() not in new
        doc = json.loads(new)
        pp = {(p["path"], p["name"]): p for p in passports(h)}
        for srv, env in servers.items():
            e = doc["mcpServers"][srv]
            assert os.path.isabs(e["command"])
            assert e["args"] == ["run", "--profile", srv], e
            assert "env" not in e or all(v.startswith("${")
                                         for v in e["env"].values())
            for var, val in env.items():
                p = pp[(f"mcp/{srv}", var)]
                assert get(h, p["id"]) == val.encode()
            prof = idw(h, "profile", "show", srv, "--json")
            assert prof.returncode == 0, prof.stderr
            assert all(v in prof.stdout.decode() for v in env), prof.stdout
        assert_no_secret(h, [r.stderr, r.stdout], secrets)
        return doc


def test_mcp_config_claude_desktop():
    cfg = {"globalShortcut": "Ctrl+Space",
           "mcpServers": {
               "github": {"command": "/bin/true",
                          "args": ["--stdio"],
                          "env": {"GITHUB_TOKEN": MCP_GH,
                                  "HOME_REF": "${HOME}"}},
               "slack": {"command": "sh", "args": ["-c", "exit 0"],
                         "env": {"SLACK_BOT_TOKEN": MCP_SL}},
               "plain": {"command": "/bin/true"}}}
    doc = mcp_case("claude_desktop_config.json", cfg, [MCP_GH, MCP_SL],
                   {"github": {"GITHUB_TOKEN": MCP_GH},
                    "slack": {"SLACK_BOT_TOKEN": MCP_SL}})
    assert doc["globalShortcut"] == "Ctrl+Space"
    assert doc["mcpServers"]["plain"] == {"command": "/bin/true"}
    assert doc["mcpServers"]["github"]["env"] == {"HOME_REF": "${HOME}"}


def test_mcp_config_claude_code():
    cfg = {"mcpServers": {
        "db": {"type": "stdio", "command": "/bin/true", "args": [],
               "env": {"DB_PASSWORD": MCP_CC}}}}
    doc = mcp_case(".mcp.json", cfg, [MCP_CC], {"db": {"DB_PASSWORD": MCP_CC}})
    assert doc["mcpServers"]["db"]["type"] == "stdio"


def test_malformed_mcp_config():
    with vault(Home()) as h:
        path = os.path.join(h.tmp, ".mcp.json")
        raw = ('{"mcpServers": {\n  "x": {"command": "/bin/true",\n'
               f'   "env": {{"K": "{MCP_CC}", "N": 5}}}}\n}}}}\n').encode()
        with open(path, "wb") as f:
            f.write(raw)
        r = proven(h, "import", "--mcp-config", path)
        assert r.returncode == 1, r.stderr
        assert b"line 3:" in r.stderr, r.stderr
        assert open(path, "rb").read() == raw
        assert not os.path.exists(path + ".idw-bak")
        assert passports(h) == []
        assert_no_secret(h, [r.stderr], [MCP_CC])


def test_value_never_in_argv():
    """While idw import runs, its argv holds no value (it has none)."""
    with vault(Home()) as h:
        env = os.path.join(h.tmp, "a.env")
        with open(env, "w") as f:
            f.write(f"A_KEY={DOT_A}\n")
        p = subprocess.Popen([os.path.join(BIN, "idw"), "import", "--dotenv",
                              env, "--passphrase-stdin"], env=h.env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True)
        with open(f"/proc/{p.pid}/cmdline", "rb") as f:
            argv = f.read()
        out, err = p.communicate((PASS + "\n").encode(), timeout=120)
        assert p.returncode == 0, err
        assert DOT_A.encode() not in argv
        assert_no_secret(h, [out, err], [DOT_A])


try:
    run_cases([test_export_metadata, test_export_values_needs_proof,
               test_export_import_round_trip, test_import_needs_proof,
               test_dotenv_with_path, test_malformed_dotenv_names_each_line,
               test_malformed_export_names_each_line,
               test_mcp_config_claude_desktop, test_mcp_config_claude_code,
               test_malformed_mcp_config, test_value_never_in_argv])
finally:
    for d in SCRATCH:
        shutil.rmtree(d, ignore_errors=True)
