# SPDX-License-Identifier: ISC
"""Who may talk to whom over the agent's socket.  The agent refuses
another uid even when the socket and its directory are opened to the
world on purpose; client and agent refuse a socket directory that is a
symbolic link, belongs to another uid or is open to group or others, with
a message naming it (IDW_SOCKET and the default /tmp/idw-$UID alike); a
client refuses a server of another uid before it sends a single byte."""
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from idwtest import (BIN, HELLO, PASS, REPLY, Home, frame,  # noqa: E402
                     need_bin, run_cases, skip)

need_bin()
if os.geteuid() != 0:
    skip("needs root to act as a second uid (65534)")
if not shutil.which("setpriv"):
    skip("setpriv is not installed")
NOBODY = 65534
AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
             "--clear-groups"]


def chown_tree(path, uid):
    for root, dirs, files in os.walk(path):
        for n in [root] + [os.path.join(root, x) for x in dirs + files]:
            os.lchown(n, uid, uid)


def run(cmd, env, as_nobody=False, input=None, timeout=60):
    return subprocess.run((AS_NOBODY if as_nobody else []) + cmd, env=env,
                          input=input, capture_output=True, timeout=timeout,
                          stdin=None if input is not None else
                          subprocess.DEVNULL)


def idw(env, *args, **kw):
    return run([os.path.join(BIN, "idw"), *args], env, **kw)


# Speaks first as a client: answered (exit 3) or dropped unanswered (0).
HELLO_PROBE = r"""
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
b = json.dumps({"client": "x"}).encode() + b"\0"
s.settimeout(5)
try:
    s.sendall(struct.pack("<IHHI", len(b), 1, 1, 1) + b)
    d = s.recv(100)
except Exception:
    d = b""
sys.exit(0 if d == b"" else 3)
"""


def test_another_uid_is_refused_even_world_writable():
    with Home() as h:
        h.init_raw()
        os.chmod(h.tmp, 0o755)
        os.chmod(h.sock, 0o777)  # world-writable on purpose
        probe = [sys.executable, "-c", HELLO_PROBE, h.sock]
        # the same probe as our own uid is answered: it works
        r = run(probe, None)
        assert r.returncode == 3, (r.returncode, r.stderr)
        r = run(probe, None, as_nobody=True)
        assert r.returncode == 0, (r.returncode, r.stderr)
        # and the agent still serves its own uid afterwards
        assert run(probe, None).returncode == 3


def private_dir(parent, name, mode=0o700, uid=0):
    d = os.path.join(parent, name)
    os.mkdir(d)
    os.chmod(d, mode)
    os.chown(d, uid, uid)
    return d


def bad_dirs(parent, uid):
    """(name, directory, words the refusal must contain)."""
    other = 0 if uid == NOBODY else NOBODY
    real = private_dir(parent, "real", uid=uid)
    link = os.path.join(parent, "link")
    os.symlink(real, link)
    os.lchown(link, uid, uid)
    return [
        ("symlink", link, "symbolic link"),
        ("other uid", private_dir(parent, "theirs", uid=other),
         f"uid {other}"),
        ("group", private_dir(parent, "group", 0o750, uid), "group or others"),
        ("other", private_dir(parent, "other", 0o701, uid), "group or others"),
        ("world", private_dir(parent, "world", 0o777, uid), "group or others"),
    ]


def check_refused(env, d, words, as_nobody, home):
    r = idw(env, "init", "--kdf", "interactive", as_nobody=as_nobody)
    err = r.stderr.decode()
    assert r.returncode != 0, f"{d}: accepted"
    assert d in err and words in err, f"{d}: {err!r}"
    assert not os.path.exists(os.path.join(home, "agentd.lock")), \
        f"{d}: an agent was started"
    # The agent itself, started by hand, refuses the directory as well.
    rfd, wfd = os.pipe()
    p = subprocess.Popen((AS_NOBODY if as_nobody else []) +
                         [os.path.join(BIN, "idw-agentd"),
                          f"--status-fd={wfd}", "--allow-no-vault"],
                         env=env, pass_fds=(wfd,), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(wfd)
    with os.fdopen(rfd) as f:
        lines = f.read()
    rc = p.wait(timeout=30)
    assert rc != 0 and d in lines and words in lines, (d, rc, lines)


def test_bad_socket_dirs_are_refused():
    for as_nobody in (False, True):
        uid = NOBODY if as_nobody else 0
        with Home() as h:
            os.makedirs(h.home, mode=0o700)
            dirs = bad_dirs(h.tmp, uid)
            chown_tree(h.home, uid)
            os.chown(h.tmp, uid, uid)
            env = dict(h.env)
            env["IDW_PASSPHRASE"] = PASS
            for name, d, words in dirs:
                env["IDW_SOCKET"] = os.path.join(d, "agent.sock")
                check_refused(env, d, words, as_nobody, h.home)
            # the control: a private directory of our own is accepted
            env["IDW_SOCKET"] = os.path.join(h.tmp, "real", "agent.sock")
            r = idw(env, "init", "--kdf", "interactive", as_nobody=as_nobody)
            assert r.returncode == 0, r.stderr
            r = idw(env, "agent", "stop", as_nobody=as_nobody)
            assert r.returncode == 0, r.stderr


def test_default_socket_dir_is_checked():
    default = f"/tmp/idw-{NOBODY}"
    saved = None
    if os.path.lexists(default):
        saved = tempfile.mkdtemp(prefix=f"idw-{NOBODY}-saved-", dir="/tmp")
        os.rename(default, os.path.join(saved, "d"))
    try:
        with Home() as h:
            os.makedirs(h.home, mode=0o700)
            chown_tree(h.tmp, NOBODY)
            env = dict(h.env)
            del env["IDW_SOCKET"]
            env.pop("XDG_RUNTIME_DIR", None)
            target = private_dir(h.tmp, "target", uid=NOBODY)
            cases = [
                ("symlink", lambda: os.symlink(target, default),
                 "symbolic link"),
                ("0755", lambda: private_dir("/tmp", f"idw-{NOBODY}", 0o755,
                                             NOBODY), "group or others"),
                ("root's", lambda: private_dir("/tmp", f"idw-{NOBODY}"),
                 "uid 0"),
            ]
            for name, make, words in cases:
                make()
                try:
                    check_refused(env, default, words, True, h.home)
                finally:
                    if os.path.islink(default):
                        os.unlink(default)
                    else:
                        shutil.rmtree(default)
            # the control: the client makes it itself, 0700, and works
            r = idw(env, "init", "--kdf", "interactive", as_nobody=True)
            assert r.returncode == 0, r.stderr
            st = os.lstat(default)
            assert st.st_uid == NOBODY and st.st_mode & 0o777 == 0o700
            r = idw(env, "agent", "stop", as_nobody=True)
            assert r.returncode == 0, r.stderr
    finally:
        if os.path.lexists(default):
            shutil.rmtree(default, ignore_errors=True)
        if saved is not None:
            os.rename(os.path.join(saved, "d"), default)
            os.rmdir(saved)


class FakeAgent:
    """A server that plays the agent: answers hello as an uninitialized
    agent would, then records whatever a client sends."""

    def __init__(self, path):
        self.path = path
        self.received = b""
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.bind(path)
        os.chmod(path, 0o777)
        self.s.listen(8)
        self.s.settimeout(0.2)
        self.stop = False
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        while not self.stop:
            try:
                c, _ = self.s.accept()
            except socket.timeout:
                continue
            with c:
                c.settimeout(5)
                self.talk(c)

    def talk(self, c):
        buf = b""
        while True:
            try:
                chunk = c.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            self.received += chunk
            buf += chunk
            while len(buf) >= 12:
                blen, ftype, _, rid = struct.unpack("<IHHI", buf[:12])
                if len(buf) < 12 + blen:
                    break
                buf = buf[12 + blen:]
                if ftype == HELLO:
                    body = {"ok": True, "vault_id": None, "home": "/x",
                            "agent_version": "0.1.0", "wire_version": 1,
                            "locked": False, "initialized": False,
                            "principal": "local", "pid": os.getpid()}
                else:
                    body = {"ok": False, "code": "io", "message": "fake"}
                c.sendall(frame(REPLY, body, req_id=rid))

    def close(self):
        self.stop = True
        self.t.join()
        self.s.close()


def test_client_refuses_a_server_of_another_uid():
    with Home() as h:
        os.makedirs(h.home, mode=0o700)
        # uid 65534's own private directory; root's listener inside it
        theirs = private_dir(h.tmp, "sockdir", uid=NOBODY)
        chown_tree(h.home, NOBODY)
        os.chmod(h.tmp, 0o755)
        fake = FakeAgent(os.path.join(theirs, "agent.sock"))
        ours = private_dir(h.tmp, "rootdir")
        control = FakeAgent(os.path.join(ours, "agent.sock"))
        try:
            env = dict(h.env)
            env.pop("IDW_PASSPHRASE", None)
            # the control: the same client and uid as the fake does send
            # its passphrase, so the fake would see one
            env_root = dict(env, IDW_SOCKET=control.path,
                            IDW_HOME=os.path.join(h.tmp, "roothome"))
            idw(env_root, "init", "--kdf", "interactive",
                "--passphrase-stdin", input=(PASS + "\n").encode())
            assert PASS.encode() in control.received, control.received
            env["IDW_SOCKET"] = fake.path
            r = idw(env, "init", "--kdf", "interactive",
                    "--passphrase-stdin", input=(PASS + "\n").encode(),
                    as_nobody=True)
            err = r.stderr.decode()
            assert r.returncode != 0, err
            assert fake.path in err and "not ours" in err, err
            assert fake.received == b"", fake.received
        finally:
            fake.close()
            control.close()


run_cases([
    test_another_uid_is_refused_even_world_writable,
    test_bad_socket_dirs_are_refused,
    test_default_socket_dir_is_checked,
    test_client_refuses_a_server_of_another_uid,
])
