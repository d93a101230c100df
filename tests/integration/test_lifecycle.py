# SPDX-License-Identifier: ISC
"""The vault key's lifecycle as a person meets it: 'idw passwd' (wrong
current passphrase, mismatch, too short, success; afterwards the old
passphrase neither unlocks nor proves), 'idw vault rekey' (slots listed
and dropped, a token made before no longer unlocks, old slot areas spliced
onto the current file open nothing, the audit log verifies across it),
the agent killed at random moments of a passphrase change (the vault
opens with the old passphrase or the new one, never neither), a vault of
format 1.0 (tests/fixtures/vault-v1.0) migrated at start, and a newer
major refused by name."""
import os
import random
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from idwtest import BIN, PASS, Home, need_bin, run_cases  # noqa: E402

need_bin()
NEW = "a new passphrase 42"
NOPASS = {"IDW_PASSPHRASE": None}
FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures",
                       "vault-v1.0")


def lines(*xs):
    return ("".join(x + "\n" for x in xs)).encode()


def stop(h):
    r = h.idw("agent", "stop")
    assert r.returncode == 0, r.stderr


def start_with(h, passphrase=None, env=None):
    e = dict(NOPASS)
    if passphrase is not None:
        e["IDW_PASSPHRASE"] = passphrase
    if env:
        e.update(env)
    r = h.idw("agent", "start", env=e)
    return r.returncode, r.stderr.decode()


def get_value(h, pid):
    r = h.idw("get", pid, "--purpose", "test")
    assert r.returncode == 0, r.stderr
    return r.stdout.decode().strip()


def audit_ok(h):
    r = h.idw("audit", "verify")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert b"intact" in r.stdout, r.stdout


def test_passwd():
    with Home() as h:
        h.init()
        pid = h.create("openai", "sk-one")
        # wrong current passphrase: proof fails (6), nothing changed
        r = h.idw("passwd", "--passphrase-stdin", "--yes",
                  input=lines("not the passphrase", NEW, NEW))
        assert r.returncode == 6, r.stderr
        # the new passphrase typed twice differently, and too short
        r = h.idw("passwd", "--passphrase-stdin", "--yes",
                  input=lines(PASS, NEW, NEW + "x"))
        assert r.returncode == 2 and b"differ" in r.stderr, r.stderr
        r = h.idw("passwd", "--passphrase-stdin", "--yes",
                  input=lines(PASS, "short", "short"))
        assert r.returncode == 2 and b"at least 8" in r.stderr, r.stderr
        stop(h)
        assert start_with(h, PASS)[0] == 0  # still the old one
        r = h.idw("passwd", "--passphrase-stdin", "--yes",
                  input=lines(PASS, NEW, NEW))
        assert r.returncode == 0, r.stderr
        assert b"IDW_PASSPHRASE" in r.stderr  # the reminder
        # the old passphrase no longer proves
        r = h.idw("vault", "rekey", "--passphrase-stdin", "--yes",
                  input=lines(PASS))
        assert r.returncode == 6, r.stderr
        r = h.idw("vault", "rekey", "--passphrase-stdin", "--yes",
                  input=lines(NEW))
        assert r.returncode == 0, r.stderr
        # nor unlocks; the new one does both
        stop(h)
        rc, err = start_with(h, PASS)
        assert rc == 5 and "wrong passphrase" in err, err
        assert start_with(h, NEW)[0] == 0
        assert get_value(h, pid) == "sk-one"
        audit_ok(h)
        # --no-rekey: the passphrase changes, the key does not
        r = h.idw("passwd", "--passphrase-stdin", "--no-rekey",
                  input=lines(NEW, PASS, PASS))
        assert r.returncode == 0, r.stderr
        assert b"--no-rekey" in r.stderr
        stop(h)
        assert start_with(h, NEW)[0] == 5
        assert start_with(h, PASS)[0] == 0
        assert get_value(h, pid) == "sk-one"


def new_token(h, passphrase=PASS):
    r = h.idw("auth", "token", "create", "--label", "ci", "--ttl", "720h",
              "--passphrase-stdin", input=lines(passphrase))
    assert r.returncode == 0, r.stderr
    return r.stdout.decode().strip()


def test_rekey():
    with Home() as h:
        h.init()
        pid = h.create("openai", "sk-two")
        tok = new_token(h)
        stop(h)
        assert start_with(h, env={"IDW_SESSION_TOKEN": tok})[0] == 0
        stop(h)
        assert start_with(h, PASS)[0] == 0
        vault = os.path.join(h.home, "vault.idw")
        with open(vault, "rb") as f:
            before = f.read()
        # stdin holds the passphrase: no confirmation without --yes
        r = h.idw("vault", "rekey", "--passphrase-stdin", input=lines(PASS))
        assert r.returncode == 2, r.stderr
        assert b"token 'ci'" in r.stderr and b"--yes" in r.stderr, r.stderr
        r = h.idw("vault", "rekey", "--passphrase-stdin", "--yes",
                  input=lines(PASS))
        assert r.returncode == 0, r.stderr
        assert b"token 'ci'" in r.stderr, r.stderr
        assert b"1 unlocking slot dropped" in r.stdout, r.stdout
        assert get_value(h, pid) == "sk-two"
        audit_ok(h)
        # a restart compacts under the new key; all still there
        stop(h)
        rc, err = start_with(h, env={"IDW_SESSION_TOKEN": tok})
        assert rc == 5 and "revoked" in err, err
        assert start_with(h, PASS)[0] == 0
        assert get_value(h, pid) == "sk-two"
        audit_ok(h)
        stop(h)
        # the slot areas of the copy taken before, spliced onto today's
        with open(vault, "rb") as f:
            now = f.read()
        spliced = now[:4096] + before[4096:12288] + now[12288:]
        with open(vault, "wb") as f:
            f.write(spliced)
        rc, err = start_with(h, PASS)
        assert rc != 0 and "rekey" in err, err
        rc, err = start_with(h, env={"IDW_SESSION_TOKEN": tok})
        assert rc != 0, err
        with open(vault, "wb") as f:
            f.write(now)
        assert start_with(h, PASS)[0] == 0
        assert get_value(h, pid) == "sk-two"
        audit_ok(h)


def test_killed_during_passwd():
    """SIGKILL at random moments of 'idw passwd': old or new, never
    neither, and the value and the audit log survive either way."""
    rnd = random.Random(os.environ.get("IDW_TEST_SEED", "lifecycle"))
    seen = {"old": 0, "new": 0}
    for i in range(6):
        with Home() as h:
            h.init()
            pid = h.create("openai", "sk-kill")
            apid = h.agent_pid()
            e = dict(h.env)
            e.pop("IDW_PASSPHRASE", None)
            p = subprocess.Popen(
                [os.path.join(BIN, "idw"), "passwd", "--passphrase-stdin",
                 "--yes"], env=e, stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            p.stdin.write(lines(PASS, NEW, NEW))
            p.stdin.close()
            # The proof KDF alone takes the CLI a few hundred ms; the
            # agent's share comes after it.  Spread the kill over both.
            time.sleep(rnd.uniform(0.0, 2.0) if i else 0.0)
            try:
                os.kill(apid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=60)
            for _ in range(100):
                try:
                    os.kill(apid, 0)
                    time.sleep(0.05)
                except ProcessLookupError:
                    break
            old = start_with(h, PASS)[0] == 0
            if old:
                stop(h)
            new = start_with(h, NEW)[0] == 0
            assert old != new, f"round {i}: old {old}, new {new}"
            if old:
                assert start_with(h, PASS)[0] == 0
            seen["old" if old else "new"] += 1
            assert get_value(h, pid) == "sk-kill"
            audit_ok(h)
    print("kill rounds:", seen)


def test_v1_fixture_migrates():
    with Home(passphrase="fixture-passphrase-v1") as h:
        os.makedirs(h.home, mode=0o700)
        for name in ("vault.idw", "audit.idw"):
            shutil.copy(os.path.join(FIXTURE, name), h.home)
            os.chmod(os.path.join(h.home, name), 0o600)
        r = h.idw("agent", "start")
        assert r.returncode == 0, r.stderr
        bak = os.path.join(h.home, "vault.idw.bak-v1")
        with open(bak, "rb") as f, \
                open(os.path.join(FIXTURE, "vault.idw"), "rb") as g:
            assert f.read() == g.read()
        with open(os.path.join(h.home, "vault.idw"), "rb") as f:
            head = f.read(8)
        assert head[:4] == b"IDWV" and head[4:6] == b"\x02\x00", head
        assert get_value(h, "pp_42b47abcecd9beb0") == \
            "sk-fixture-openai-0001"
        r = h.idw("get", "pp_725bfa472f0d4705", "--purpose", "test",
                  "--passphrase-stdin", input=lines("fixture-passphrase-v1"))
        assert r.returncode == 0, r.stderr
        assert r.stdout.decode().strip() == "ghp_fixturegithub0002"
        audit_ok(h)
        r = h.idw("audit")
        assert b"migrated to 2.0" in r.stdout, r.stdout
        # migrated once: a restart keeps no second copy
        stop(h)
        assert h.idw("agent", "start").returncode == 0
        assert sorted(os.listdir(h.home)).count("vault.idw.bak-v1.1") == 0
        audit_ok(h)


def test_newer_major_refused():
    with Home() as h:
        h.init()
        stop(h)
        vault = os.path.join(h.home, "vault.idw")
        with open(vault, "r+b") as f:
            f.seek(4)
            f.write(b"\x03\x00")
        rc, err = start_with(h, PASS)
        assert rc != 0, err
        assert "vault format 3.0" in err and "idw" in err, err


if __name__ == "__main__":
    run_cases([test_passwd, test_rekey, test_killed_during_passwd,
               test_v1_fixture_migrates, test_newer_major_refused])
