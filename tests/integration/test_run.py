# SPDX-License-Identifier: ISC
"""idw run, black box (README "Keeping secrets out of configs"): a child
gets its variables and nothing else of idw's environment; values never
reach idw's argv, environment, stderr or the audit log; exit status and
signals pass through; output is redacted in every encoding, also split
across writes, and secret-free output passes byte for byte; a refused or
pending passport starts nothing; 'never' passports go to profiles only;
--env-file takes idw:// references."""
import hashlib
import json
import os
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from idwtest import BIN, PASS, Home, need_bin, run_cases  # noqa: E402

PY = sys.executable

# Each value has bytes that the encodings treat differently: '/' and '+'
# (base64 alphabets, percent, JSON's \/), '&' and '"' (percent, JSON).
VALUE_A = "sk/run+" + os.urandom(12).hex() + "&q=\"1\""
VALUE_B = "tok-" + os.urandom(16).hex()
VALUE_C = "pw+" + os.urandom(10).hex() + "/z"

# The forms the filter must catch; run in the child and here alike.
FORMS_SRC = r'''
import base64, json, re, urllib.parse
def forms(v):
    out = [v]
    for k in range(3):
        pre = b"xyz"[:k]
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            e = enc(pre + v)
            out += [e, e.rstrip(b"=")]
    out += [v.hex().encode(), v.hex().upper().encode()]
    out += [b"".join(b"%%%02x" % c for c in v),
            b"".join(b"%%%02X" % c for c in v)]
    # As a URL encoder writes it: unreserved bytes stay as they are.
    q = urllib.parse.quote_from_bytes(v, safe="").encode()
    out += [q, re.sub(rb"%[0-9A-F]{2}", lambda m: m.group().lower(), q)]
    s = v.decode()
    out += [json.dumps(s).encode(),
            "".join("\\u%04x" % ord(c) for c in s).encode(),
            "".join("\\u%04X" % ord(c) for c in s).encode(),
            json.dumps(s).replace("/", "\\/").encode()]
    return out
'''
ns = {}
exec(FORMS_SRC, ns)
forms = ns["forms"]


def idw_run(h, *args, input=None, env=None, timeout=60):
    return h.idw("run", *args, input=input, env=env, timeout=timeout)


def py(code):
    return ["--", PY, "-c", code]


def setup(h):
    h.init()
    return {
        "A": h.create("alpha", VALUE_A),
        "B": h.create("beta", VALUE_B, "--path", "prod/svc"),
        "C": h.create("gamma", VALUE_C),
    }


def envs(ids, *names):
    out = []
    for n in names:
        out += ["--env", f"{n}={ids[n]}"]
    return out


def no_values(blob, where):
    for v in (VALUE_A, VALUE_B, VALUE_C):
        for f in forms(v.encode()):
            assert f not in blob, f"a value reached {where}"


def test_child_sees_values():
    with Home() as h:
        ids = setup(h)
        code = ("import os,hashlib,json;print(json.dumps({k: hashlib."
                "sha256(os.environb[k.encode()]).hexdigest() for k in "
                "('A','B','C')}))")
        r = idw_run(h, *envs(ids, "A", "B"), "--env",
                    "C=idw://" + ids["C"], *py(code))
        assert r.returncode == 0, r.stderr
        got = json.loads(r.stdout)
        for n, v in (("A", VALUE_A), ("B", VALUE_B), ("C", VALUE_C)):
            assert got[n] == hashlib.sha256(v.encode()).hexdigest(), n
        no_values(r.stderr, "idw's stderr")
        # A path/name reference works as well as an id.
        r = idw_run(h, "--env", "B=prod/svc/beta", *py(
            "import os,hashlib;print(hashlib.sha256(os.environb[b'B'])"
            ".hexdigest())"))
        assert r.returncode == 0, r.stderr
        assert r.stdout.decode().strip() == \
            hashlib.sha256(VALUE_B.encode()).hexdigest()


def test_no_value_in_proc_stderr_or_audit():
    with Home() as h:
        ids = setup(h)
        e = dict(h.env)
        p = subprocess.Popen(
            [os.path.join(BIN, "idw"), "run", *envs(ids, "A", "B"),
             "--purpose", "proc check", *py(
                 "import time,sys;print('ready',flush=True);"
                 "time.sleep(30)")],
            env=e, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        try:
            assert p.stdout.readline() == b"ready\n"
            with open(f"/proc/{p.pid}/cmdline", "rb") as f:
                no_values(f.read(), "idw's cmdline")
            try:
                with open(f"/proc/{p.pid}/environ", "rb") as f:
                    environ = f.read()
                no_values(environ, "idw's environment")
                assert b"IDW_HOME=" in environ  # it was really read
            except PermissionError:
                pass  # idw made itself non-dumpable: stronger still
        finally:
            p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=30)
        assert p.returncode == 128 + signal.SIGTERM, (p.returncode, err)
        no_values(err, "idw's stderr")
        with open(os.path.join(h.home, "audit.idw"), "rb") as f:
            no_values(f.read(), "audit.idw")
        r = h.idw("audit", "--json", "--limit", "1000")
        assert r.returncode == 0, r.stderr
        no_values(r.stdout, "idw audit")
        # One audit entry per variable, with the purpose.
        for n in ("A", "B"):
            r = h.idw("audit", ids[n], "--json", "--action", "access")
            ent = json.loads(r.stdout)["entries"]
            assert [x["result"] for x in ent] == ["allowed"], ent
            assert ent[0]["purpose"] == "proc check", ent
        r = h.idw("audit", ids["C"], "--json", "--action", "access")
        assert json.loads(r.stdout)["entries"] == []


def test_clean_and_inherited_env():
    with Home() as h:
        ids = setup(h)
        code = "import os,json;print(json.dumps(sorted(os.environ)))"
        extra = {"FOO": "bar", "IDW_ANYTHING": "x", "LC_TIME": "C"}
        r = idw_run(h, *envs(ids, "A"), *py(code), env=extra)
        assert r.returncode == 0, r.stderr
        keys = set(json.loads(r.stdout))
        assert "A" in keys and "PATH" in keys and "LC_TIME" in keys, keys
        assert "FOO" not in keys, keys
        assert not [k for k in keys if k.startswith("IDW_")], keys
        assert keys <= {"A", "PATH", "HOME", "LANG", "LC_TIME"}, keys
        r = idw_run(h, "--inherit-env", *envs(ids, "A"), *py(code),
                    env=extra)
        assert r.returncode == 0, r.stderr
        keys = set(json.loads(r.stdout))
        assert {"A", "FOO", "PATH"} <= keys, keys
        assert not [k for k in keys if k.startswith("IDW_")], keys
        # An injected name overrides an inherited one.
        r = idw_run(h, "--inherit-env", "--env", f"FOO={ids['B']}", *py(
            "import os,hashlib;print(hashlib.sha256(os.environb[b'FOO'])"
            ".hexdigest())"), env=extra)
        assert r.stdout.decode().strip() == \
            hashlib.sha256(VALUE_B.encode()).hexdigest()


def test_exit_status():
    with Home() as h:
        ids = setup(h)
        r = idw_run(h, *envs(ids, "A"), "--", "sh", "-c", "exit 7")
        assert r.returncode == 7, r.stderr
        r = idw_run(h, *envs(ids, "A"), "--", "sh", "-c", "kill -KILL $$")
        assert r.returncode == 128 + 9, r.stderr
        r = idw_run(h, *envs(ids, "A"), "--", "no-such-program-idw")
        assert r.returncode == 127, r.stderr
        assert b"not found" in r.stderr
        notexec = os.path.join(h.tmp, "notexec")
        with open(notexec, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(notexec, 0o600)
        r = idw_run(h, *envs(ids, "A"), "--", notexec)
        assert r.returncode == 126, (r.returncode, r.stderr)
        # A program that is not there fetches nothing.
        r = h.idw("audit", ids["A"], "--json", "--action", "access")
        assert len(json.loads(r.stdout)["entries"]) == 3


def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def test_signal_forwarded():
    with Home() as h:
        ids = setup(h)
        # The handler may run inside print('ready'): raw writes only.
        code = ("import os,signal,time\n"
                "def on(n,f):\n"
                "    os.write(1, b'got %d\\n' % n); os._exit(42)\n"
                "signal.signal(signal.SIGTERM, on)\n"
                "signal.signal(signal.SIGUSR1, on)\n"
                "print('ready', flush=True)\n"
                "time.sleep(30)\n")
        for sig in (signal.SIGTERM, signal.SIGUSR1):
            p = subprocess.Popen(
                [os.path.join(BIN, "idw"), "run", *envs(ids, "A"),
                 *py(code)], env=h.env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            assert p.stdout.readline() == b"ready\n"
            p.send_signal(sig)
            try:
                out, err = p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                # What idw and its child had pending and blocked, for
                # whoever reads the failure.
                diag = []
                for pid in [p.pid] + children_of(p.pid):
                    try:
                        with open(f"/proc/{pid}/status") as f:
                            diag += [f"{pid} {ln.strip()}" for ln in f
                                     if ln.split(":")[0] in
                                     ("Name", "State", "SigPnd", "ShdPnd",
                                      "SigBlk", "SigCgt", "SigIgn")]
                    except OSError:
                        pass
                p.kill()
                p.communicate()
                raise AssertionError(f"signal {int(sig)} not passed on: "
                                     + "; ".join(diag))
            assert out == f"got {int(sig)}\n".encode(), (out, err)
            assert p.returncode == 42, (p.returncode, err)


def test_stdin_is_the_childs():
    with Home() as h:
        ids = setup(h)
        data = b"line one\nline two\n" * 1000
        r = idw_run(h, *envs(ids, "A"), "--", "cat", input=data)
        assert r.returncode == 0, r.stderr
        assert r.stdout == data


def test_redaction_every_form():
    with Home() as h:
        ids = setup(h)
        code = FORMS_SRC + (
            "\nimport os,sys\n"
            "for f in forms(os.environb[b'A']):\n"
            "    sys.stdout.buffer.write(b'L:' + f + b'\\n')\n"
            "for f in forms(os.environb[b'B']):\n"
            "    sys.stderr.buffer.write(b'E:' + f + b'\\n')\n")
        r = idw_run(h, *envs(ids, "A", "B"), *py(code))
        assert r.returncode == 0, r.stderr
        no_values(r.stdout, "redacted stdout")
        no_values(r.stderr, "redacted stderr")
        lines = r.stdout.splitlines()
        assert len(lines) == len(forms(VALUE_A.encode())), lines
        for line, f in zip(lines, forms(VALUE_A.encode())):
            assert b"<redacted:A>" in line, (line, f)
            mid = f[len(f) // 4: 3 * len(f) // 4]
            assert mid not in line, (line, f)
        err = [x for x in r.stderr.splitlines() if x.startswith(b"E:")]
        assert len(err) == len(forms(VALUE_B.encode()))
        assert all(b"<redacted:B>" in x for x in err), err
        # Without the filter the same program shows every form.
        r = idw_run(h, "--no-redact", *envs(ids, "A", "B"), *py(code))
        assert r.stdout.splitlines() == \
            [b"L:" + f for f in forms(VALUE_A.encode())]


def test_redaction_split_and_many():
    with Home() as h:
        ids = setup(h)
        # Halves written apart, well inside the 250 ms hold.
        code = ("import os,sys,time\n"
                "for n in (b'A', b'C'):\n"
                "    v = os.environb[n]\n"
                "    sys.stdout.buffer.write(b'x=' + v[:7]); "
                "sys.stdout.flush()\n"
                "    time.sleep(0.05)\n"
                "    sys.stdout.buffer.write(v[7:] + b'\\n'); "
                "sys.stdout.flush()\n"
                "a, b, c = (os.environb[k] for k in (b'A', b'B', b'C'))\n"
                "sys.stdout.buffer.write(a + b + b' ' + c + a.hex()"
                ".encode() + b'\\n')\n")
        r = idw_run(h, *envs(ids, "A", "B", "C"), *py(code))
        assert r.returncode == 0, r.stderr
        assert r.stdout == (b"x=<redacted:A>\nx=<redacted:C>\n"
                            b"<redacted:A><redacted:B> <redacted:C>"
                            b"<redacted:A>\n"), r.stdout


def test_clean_output_byte_identical():
    with Home() as h:
        ids = setup(h)
        blob = os.urandom(256 * 1024)
        path = os.path.join(h.tmp, "blob")
        with open(path, "wb") as f:
            f.write(blob)
        for flags in (["--no-redact"], []):
            r = idw_run(h, *flags, *envs(ids, "A", "B"), "--", "cat", path)
            assert r.returncode == 0, r.stderr
            assert r.stdout == blob, flags
        # Text that shares prefixes with the values, but holds none.
        text = ("sk/run+ sk/ tok- tok-" + VALUE_B[4:20] + " pw+ 73 6b " +
                VALUE_A[:-1] + " %73%6b " + "\u00e9\u2603 end\n") * 300
        r = idw_run(h, *envs(ids, "A", "B", "C"), "--", "cat",
                    input=text.encode())
        assert r.returncode == 0, r.stderr
        assert r.stdout == text.encode()


def test_held_bytes_flushed_without_eof():
    with Home() as h:
        ids = setup(h)
        code = ("import os,sys,time\n"
                "sys.stdout.buffer.write(b'pre:' + os.environb[b'A'][:9])\n"
                "sys.stdout.flush()\n"
                "time.sleep(4)\n")
        p = subprocess.Popen(
            [os.path.join(BIN, "idw"), "run", *envs(ids, "A"), *py(code)],
            env=h.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        want = b"pre:" + VALUE_A[:9].encode()
        got = b""
        deadline = time.monotonic() + 30
        while got != want and time.monotonic() < deadline:
            rd, _, _ = select.select([p.stdout], [], [], 0.5)
            if rd:
                chunk = os.read(p.stdout.fileno(), 4096)
                if not chunk:
                    break
                got += chunk
        still_running = p.poll() is None
        p.communicate(timeout=30)
        assert got == want, got
        assert still_running, "the prefix came only when the child ended"


def test_denied_and_pending_start_nothing():
    with Home() as h:
        ids = setup(h)
        marker = os.path.join(h.tmp, "started")
        prog = ["--", "sh", "-c", f"touch {marker}"]
        r = h.idw("suspend", ids["B"], "--reason", "test")
        assert r.returncode == 0, r.stderr
        r = idw_run(h, *envs(ids, "A", "B"), *prog)
        assert r.returncode == 3, (r.returncode, r.stderr)
        assert b"B (" in r.stderr and b"not started" in r.stderr, r.stderr
        assert not os.path.exists(marker)
        priv = h.create("privileged", "priv-" + os.urandom(8).hex(),
                        "--visa", "privilege")
        r = idw_run(h, "--env", f"P={priv}", *prog)
        assert r.returncode == 4, (r.returncode, r.stderr)
        assert b"P (" in r.stderr, r.stderr
        assert not os.path.exists(marker)
        r = idw_run(h, "--env", "Q=pp_0000000000000000", *prog)
        assert r.returncode != 0 and not os.path.exists(marker)
        r = idw_run(h, *envs(ids, "A"), *prog)
        assert r.returncode == 0 and os.path.exists(marker), r.stderr


def test_never_only_for_profiles():
    with Home() as h:
        ids = setup(h)
        secret = "never-" + os.urandom(12).hex()
        nv = h.create("hidden", secret, "--reveal", "never")
        code = ("import os,hashlib;print(hashlib.sha256(os.environb[b'N'])"
                ".hexdigest())")
        r = idw_run(h, "--env", f"N={nv}", *py(code))
        assert r.returncode == 3, (r.returncode, r.stderr)
        assert b"never" in r.stderr, r.stderr
        r = h.idw("get", nv, "--purpose", "look")
        assert r.returncode == 3 and secret.encode() not in r.stdout
        r = h.idw("profile", "add", "hashit", "--env", f"N={nv}",
                  "--passphrase-stdin", "--", PY, "-c", code,
                  input=(PASS + "\n").encode())
        assert r.returncode == 0, r.stderr
        r = idw_run(h, "--profile", "hashit")
        assert r.returncode == 0, r.stderr
        assert r.stdout.decode().strip() == \
            hashlib.sha256(secret.encode()).hexdigest()
        # The profile's program is fixed: no other words, no other vars.
        r = idw_run(h, "--profile", "hashit", "--", "sh")
        assert r.returncode == 2, r.stderr
        r = idw_run(h, "--profile", "hashit", "--env", f"X={ids['A']}")
        assert r.returncode == 2, r.stderr
        r = idw_run(h, "--profile", "no-such-profile")
        assert r.returncode != 0


def test_env_file():
    with Home() as h:
        ids = setup(h)
        good = os.path.join(h.tmp, "refs.env")
        with open(good, "w") as f:
            f.write("# references only, safe to commit\n\n"
                    f"A=idw://{ids['A']}\n"
                    "export B='idw://prod/svc/beta'  # by path/name\n"
                    f'C="idw://{ids["C"]}"\n')
        code = ("import os,hashlib;print(' '.join(hashlib.sha256("
                "os.environb[k]).hexdigest() for k in (b'A',b'B',b'C')))")
        r = idw_run(h, "--env-file", good, *py(code))
        assert r.returncode == 0, r.stderr
        assert r.stdout.decode().split() == [
            hashlib.sha256(v.encode()).hexdigest()
            for v in (VALUE_A, VALUE_B, VALUE_C)]
        marker = os.path.join(h.tmp, "started")
        bad = os.path.join(h.tmp, "bad.env")
        with open(bad, "w") as f:
            f.write(f"A=idw://{ids['A']}\nTOKEN=sk-plain-value\n")
        r = idw_run(h, "--env-file", bad, "--", "sh", "-c",
                    f"touch {marker}")
        assert r.returncode == 2, (r.returncode, r.stderr)
        assert b"line 2" in r.stderr, r.stderr
        assert not os.path.exists(marker)
        # Nothing was fetched for a file that does not parse.
        r = h.idw("audit", ids["A"], "--json", "--action", "access")
        assert len(json.loads(r.stdout)["entries"]) == 1


if __name__ == "__main__":
    need_bin()
    run_cases([test_child_sees_values, test_no_value_in_proc_stderr_or_audit,
               test_clean_and_inherited_env, test_exit_status,
               test_signal_forwarded, test_stdin_is_the_childs,
               test_redaction_every_form, test_redaction_split_and_many,
               test_clean_output_byte_identical,
               test_held_bytes_flushed_without_eof,
               test_denied_and_pending_start_nothing,
               test_never_only_for_profiles, test_env_file])
