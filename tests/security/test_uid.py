# SPDX-License-Identifier: ISC
"""An agent of an unprivileged uid (65534, through setpriv: root ignores
these limits) against processes of that same uid: no ptrace attach, no
/proc/PID/mem, no core file on SIGABRT; and its locked memory: a vault
that does not fit under RLIMIT_MEMLOCK is refused with a message naming
it, --allow-unlocked-memory starts anyway and says so."""
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from idwtest import (BIN, PASS, Conn, Home, need_bin,  # noqa: E402
                     run_cases, skip)

need_bin()
if os.geteuid() != 0:
    skip("needs root to switch to uid 65534")
if not shutil.which("setpriv"):
    skip("setpriv is not installed")
NOBODY = 65534
AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
             "--clear-groups"]
PROBE = os.path.join(BIN, "sc_probe")
SANITIZER = os.path.exists(PROBE) and subprocess.run(
    [PROBE, "--sanitizer"], capture_output=True,
    text=True).stdout.strip() == "1"

# Run as uid 65534 against a pid: may it ptrace-attach, open /proc/PID/mem?
PEEK = r"""
import ctypes, errno, json, os, sys
pid = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                        ctypes.c_void_p]
out = {}
if libc.ptrace(16, pid, None, None) == 0:          # PTRACE_ATTACH
    os.waitpid(pid, 0)
    libc.ptrace(17, pid, None, None)               # PTRACE_DETACH
    out["attach"] = "ok"
else:
    out["attach"] = errno.errorcode[ctypes.get_errno()]
try:
    with open(f"/proc/{pid}/maps") as m:
        start = int(m.readline().split("-")[0], 16)
    with open(f"/proc/{pid}/mem", "rb") as f:
        f.seek(start)
        f.read(16)
    out["mem"] = "ok"
except OSError as e:
    out["mem"] = errno.errorcode[e.errno]
print(json.dumps(out))
"""


class NobodyHome(Home):
    """A Home whose tree belongs to uid 65534; its agent is stopped by pid
    at exit (root cannot ask it: the agent refuses other uids)."""

    def __init__(self):
        super().__init__()
        self.env["IDW_PASSPHRASE"] = PASS
        os.makedirs(self.home, mode=0o700)
        self.chown()
        self.pids = []

    def chown(self):
        for root, dirs, files in os.walk(self.tmp):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.lchown(n, NOBODY, NOBODY)

    def run(self, *cmd, env=None, timeout=60, **kw):
        e = dict(self.env)
        e.update(env or {})
        return subprocess.run(AS_NOBODY + list(cmd), env=e,
                              capture_output=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, **kw)

    def idw(self, *args, **kw):
        return self.run(os.path.join(BIN, "idw"), *args, **kw)

    def status(self):
        r = self.idw("agent", "status", "--json")
        assert r.returncode == 0, r.stderr
        st = json.loads(r.stdout)
        if st.get("pid"):
            self.pids.append(st["pid"])
        return st

    def close(self):
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        super().close()


def proc_uid(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    raise AssertionError("no Uid line")


def core_limit(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max core file size"):
                return line.split()[4:6]
    raise AssertionError("no core limit")


def peek(h, pid):
    r = h.run(sys.executable, "-c", PEEK, str(pid))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_same_uid_cannot_ptrace_or_read_memory():
    with NobodyHome() as h:
        r = h.idw("init", "--kdf", "interactive")
        assert r.returncode == 0, r.stderr
        pid = h.status()["pid"]
        assert proc_uid(pid) == NOBODY
        # The control: an ordinary process of that uid is open to it.
        ctl = subprocess.Popen(AS_NOBODY + ["sleep", "30"])
        try:
            time.sleep(0.1)
            assert peek(h, ctl.pid) == {"attach": "ok", "mem": "ok"}
            assert os.stat(f"/proc/{ctl.pid}/status").st_uid == NOBODY
        finally:
            ctl.kill()
            ctl.wait()
        got = peek(h, pid)
        assert got == {"attach": "EPERM", "mem": "EACCES"}, got
        # Not dumpable: the kernel hands its /proc files to root.
        assert os.stat(f"/proc/{pid}/status").st_uid == 0
        assert core_limit(pid) == ["0", "0"], core_limit(pid)


def unlimited_core():
    resource.setrlimit(resource.RLIMIT_CORE,
                       (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def wait_status(pid):
    _, status = os.waitpid(pid, 0)
    return status


def test_no_core_file_on_sigabrt():
    # As root, so that the agent's working directory ("/") is writable.
    # Three things stand between SIGABRT and a core file: RLIMIT_CORE 0,
    # PR_SET_DUMPABLE 0 and Landlock (no file outside the home).  The
    # first two are checked one by one (here and in the test above); the
    # wait status says whether the kernel wrote a core anywhere at all.
    with open("/proc/sys/kernel/core_pattern") as f:
        pattern = f.read().strip()
    with Home() as h:
        h.init_raw()
        h.children[0].send_signal(signal.SIGTERM)
        h.children[0].wait(timeout=10)
        cores_before = set(os.listdir("/"))
        # The control: the same limits and signal on a plain process.
        ctl_dir = tempfile.mkdtemp(dir=h.tmp)
        ctl = subprocess.Popen(["sleep", "30"], cwd=ctl_dir,
                               preexec_fn=unlimited_core)
        time.sleep(0.1)
        os.kill(ctl.pid, signal.SIGABRT)
        st = wait_status(ctl.pid)
        ctl.returncode = -signal.SIGABRT
        control_dumped = os.WIFSIGNALED(st) and os.WCOREDUMP(st)
        if not control_dumped:
            print(f"  (no core for a plain process either, core_pattern "
                  f"{pattern!r}: only the limits are checked)")
        r, w = os.pipe()
        e = dict(h.env)
        p = subprocess.Popen([os.path.join(BIN, "idw-agentd"),
                              f"--status-fd={w}"], env=e, pass_fds=(w,),
                             cwd=h.tmp, preexec_fn=unlimited_core,
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        os.close(w)
        with os.fdopen(r) as f:
            assert f.read().split() == ["ok"]
        assert core_limit(p.pid) == ["0", "0"], core_limit(p.pid)
        os.kill(p.pid, signal.SIGABRT)
        st = wait_status(p.pid)
        p.returncode = -signal.SIGABRT
        assert os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGABRT, st
        new = [os.path.join("/", n) for n in set(os.listdir("/")) -
               cores_before if n.startswith("core")]
        for d in (h.tmp, h.home):
            new += [os.path.join(d, n) for n in os.listdir(d)
                    if n.startswith("core")]
        for n in new:
            os.unlink(n)
        assert not os.WCOREDUMP(st), "the agent dumped core"
        assert not new, f"core files appeared: {new}"


def agent_direct(h, *args, memlock=None):
    """idw-agentd as uid 65534, maybe under a memlock limit: (rc, lines)."""
    r, w = os.pipe()
    cmd = list(AS_NOBODY)
    if memlock is not None:
        cmd += ["prlimit", f"--memlock={memlock}:{memlock}"]
    cmd += [os.path.join(BIN, "idw-agentd"), f"--status-fd={w}", *args]
    p = subprocess.Popen(cmd, env=h.env, pass_fds=(w,),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    h.children.append(p)
    os.close(w)
    with os.fdopen(r) as f:
        lines = f.read().splitlines()
    if lines[-1:] == ["ok"]:
        h.pids.append(p.pid)
        return None, lines
    return p.wait(timeout=30), lines


def big_vault(h, n=200):
    """A vault whose metadata needs two arena regions (over 1 MiB)."""
    os.chown(h.tmp, 0, 0)
    os.chown(h.home, 0, 0)
    p, lines = h.start_agent("--allow-no-vault")
    assert lines == ["ok"], lines
    c = Conn(h.sock)
    assert c.call({"verb": "init", "kdf": "interactive"},
                  PASS.encode())["ok"]
    for i in range(n):
        rep = c.call({"verb": "create", "name": f"big-{i}",
                      "credential_type": "api-key", "notes": "n" * 4000},
                     b"v" * 40)
        assert rep["ok"], rep
    locked = c.call({"verb": "status"})["locked_bytes"]
    assert c.call({"verb": "stop"})["ok"]
    p.wait(timeout=10)
    h.chown()
    return locked


def test_memlock_limit_is_reported_and_overridable():
    if SANITIZER:
        print("  (sanitizer build: its runtime makes mlock a no-op, so no "
              "limit can be hit)")
        return
    limit = 1500000  # room for a small vault's regions, not a big one's
    with NobodyHome() as small, NobodyHome() as big:
        r = small.idw("init", "--kdf", "interactive")
        assert r.returncode == 0, r.stderr
        r = small.idw("agent", "stop")
        assert r.returncode == 0, r.stderr
        # Far too little for even the first region: refused at start.
        rc, lines = agent_direct(small, memlock=32768)
        assert rc not in (None, 0), lines
        assert any("RLIMIT_MEMLOCK" in x for x in lines), lines
        # --allow-unlocked-memory starts, and says so now and later.
        rc, lines = agent_direct(small, "--allow-unlocked-memory",
                                 memlock=32768)
        assert rc is None, (rc, lines)
        assert any("not locked" in x for x in lines[:-1]), lines
        st = small.status()
        assert st["memory_locked"] is False, st
        r = small.idw("agent", "stop")
        assert r.returncode == 0, r.stderr
        # Under a limit the small vault fits but the big one does not,
        # the client that starts the agent relays the reason.
        r = small.run("prlimit", f"--memlock={limit}:{limit}",
                      os.path.join(BIN, "idw"), "agent", "start")
        assert r.returncode == 0, r.stderr
        assert small.status()["memory_locked"] is True
        assert big_vault(big) > limit
        r = big.run("prlimit", f"--memlock={limit}:{limit}",
                    os.path.join(BIN, "idw"), "agent", "start")
        err = r.stderr.decode()
        assert r.returncode in (1, 5), (r.returncode, err)
        assert "RLIMIT_MEMLOCK" in err and "--allow-unlocked-memory" in err, \
            err
        assert not os.path.exists(big.sock), "an agent runs anyway"


run_cases([
    test_same_uid_cannot_ptrace_or_read_memory,
    test_no_core_file_on_sigabrt,
    test_memlock_limit_is_reported_and_overridable,
])
