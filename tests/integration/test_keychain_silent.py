# SPDX-License-Identifier: ISC
"""A keychain service that accepts the D-Bus call and never answers: the
unlock chain falls through after IDW_KEYCHAIN_TIMEOUT to the next source,
and with no other source it fails with a message, never a hang."""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from idwtest import BIN, PASS, Home, need_bin, run_cases, skip  # noqa: E402

need_bin()
HERE = os.path.dirname(os.path.abspath(__file__))
SESSION = os.path.join(HERE, "..", "lib", "keyring-session.sh")
FAKE = os.path.join(BIN, "..", "tests", "fake_secret_service")
for tool in ("dbus-run-session", "gnome-keyring-daemon", "gdbus"):
    if shutil.which(tool) is None:
        skip(f"{tool} is not installed")
if not os.path.exists(FAKE):
    FAKE = os.path.join(BIN, "fake_secret_service")


def in_fake_session(h, script, env):
    """Run sh -c script in a fresh bus whose Secret Service is silent."""
    inner = (f'"{FAKE}" & gdbus wait --session --timeout 10 '
             'org.freedesktop.secrets && ' + script)
    return subprocess.run(["dbus-run-session", "--", "sh", "-c", inner],
                          env=env, capture_output=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def test_silent_keychain_falls_through_after_timeout():
    with Home() as h:
        h.init()
        h.create("k", "v")
        # a real login first, so the vault has a keychain slot
        r = subprocess.run(["sh", SESSION, os.path.join(BIN, "idw"), "auth",
                            "login", "--passphrase-stdin"],
                           env=h.env, input=(PASS + "\n").encode(),
                           capture_output=True, timeout=60)
        assert r.returncode == 0, r
        h.idw("agent", "stop")
        env = dict(h.env, IDW_KEYCHAIN_TIMEOUT="1s")
        idw = os.path.join(BIN, "idw")
        t0 = time.time()
        r = in_fake_session(h, f'"{idw}" agent status --json >/dev/null; '
                               f'"{idw}" agent start && '
                               f'"{idw}" agent status --json', env)
        took = time.time() - t0
        assert r.returncode == 0, r
        st = json.loads(r.stdout.decode()[r.stdout.decode().index("{"):])
        assert st["unlock_source"] == "env-var", st
        assert 1.0 <= took < 10, took
        h.idw("agent", "stop")
        # nothing else to fall to: a message, quickly
        env.pop("IDW_PASSPHRASE")
        t0 = time.time()
        r = in_fake_session(h, f'"{idw}" list', env)
        took = time.time() - t0
        assert r.returncode == 5, r
        err = r.stderr.decode()
        assert "no answer within 1000 ms" in err, err
        assert took < 10, took


run_cases([test_silent_keychain_falls_through_after_timeout])
