# SPDX-License-Identifier: ISC
"""No credential value and no passphrase stays in the agent's memory: not
while it serves (values are shielded, the passphrase wiped once used),
not after `lock` (which also wipes all passport metadata), and not when
it leaves through `stop`, SIGTERM or the idle exit.  Root reads the
agent's whole address space through /proc/PID/maps and /proc/PID/mem
(root passes PR_SET_DUMPABLE 0); for the exits, the agent is traced with
PTRACE_SEIZE and PTRACE_O_TRACEEXIT and read at its exit stop, after
everything it does on the way out.  A random passport name, metadata the
agent must hold while unlocked, is the positive control that the reader
sees the memory where secrets would be."""
import ctypes
import os
import secrets
import signal
import string
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from idwtest import Conn, Home, need_bin, run_cases, skip  # noqa: E402

need_bin()
if os.geteuid() != 0:
    skip("needs root to read another process's memory")

PTRACE_CONT, PTRACE_DETACH = 7, 17
PTRACE_SEIZE, PTRACE_O_TRACEEXIT, PTRACE_EVENT_EXIT = 0x4206, 0x40, 6
WALL = 0x40000000
BIG = 1 << 30  # ASan's shadow reservations: no heap data lives there

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                        ctypes.c_void_p]


def rnd(n=40):
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


def read_memory(pid):
    """Every mapping of pid (unreadable pages skipped): [(maps line, bytes)].
    /proc/PID/mem reads PROT_NONE pages too, so guarded areas count."""
    out = []
    with open(f"/proc/{pid}/maps") as m:
        lines = m.readlines()
    fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY)
    try:
        for line in lines:
            parts = line.split()
            start, end = (int(x, 16) for x in parts[0].split("-"))
            name = parts[5] if len(parts) > 5 else ""
            if name in ("[vvar]", "[vvar_vclock]", "[vsyscall]"):
                continue
            if end - start > BIG and "---p" in line:
                continue
            pos = start
            while pos < end:
                n = min(1 << 20, end - pos)
                try:
                    out.append((line.strip(), os.pread(fd, n, pos)))
                    pos += n
                except OSError:
                    pos += min(4096, n)
    finally:
        os.close(fd)
    assert out, f"nothing readable in {pid}"
    return out


def wait_idle(pid, timeout=5):
    """Until pid sleeps in poll: the client has its reply once send()
    copied it, the agent wipes its buffers only after that."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(f"/proc/{pid}/syscall") as f:
            nr = f.read().split()[0]
        if nr in ("7", "271"):  # poll, ppoll
            return
        time.sleep(0.01)
    raise AssertionError(f"{pid} did not go back to poll")


def where(mem, needle):
    return sorted({line for line, b in mem if needle in b})


class Secrets:
    def __init__(self, n=4):
        self.passphrase = rnd(32)
        self.values = [rnd() for _ in range(n)]
        self.names = [f"wipe-{rnd(24)}" for _ in range(n)]
        self.ids = []

    def create(self, c):
        for name, value in zip(self.names, self.values):
            rep = c.call({"verb": "create", "name": name,
                          "credential_type": "api-key"}, value.encode())
            assert rep["ok"], rep
            self.ids.append(rep["id"])

    def use(self, c):
        # Metadata first, then values: the last thing a value's scratch
        # block saw is its value, not a reuse.
        assert c.call({"verb": "list"})["ok"]
        for pid, value in zip(self.ids, self.values):
            msg, sec = c.call_secret({"verb": "get", "id": pid,
                                      "purpose": "memory test"})
            assert msg["ok"] and sec == value.encode(), msg

    def found(self, mem, names=True):
        """What is still there, by kind and where."""
        hits = {}
        for kind, items in (("passphrase", [self.passphrase]),
                            ("value", self.values),
                            ("name", self.names if names else [])):
            for s in items:
                w = where(mem, s.encode())
                if w:
                    hits.setdefault(kind, []).extend(w)
        return hits


def positive_control(pid, s):
    """While unlocked: the names are found (the reader sees the arena),
    the values and the passphrase are not (shielded, wiped)."""
    wait_idle(pid)
    mem = read_memory(pid)
    hits = s.found(mem)
    assert "name" in hits, "the reader does not see passport metadata"
    assert not {"value", "passphrase"} & hits.keys(), \
        f"in memory while unlocked: {hits}"


def agent_with_secrets(h, s, *args):
    """An agent unlocked from IDW_PASSPHRASE, holding s's passports."""
    p, lines = h.start_agent(*args)
    assert lines == ["ok"], lines
    c = Conn(h.sock)
    if not s.ids:
        s.create(c)
    s.use(c)
    return p, c


def init_home(s):
    """A new vault made over the wire with s's passphrase and passports;
    IDW_PASSPHRASE holds the passphrase for later starts."""
    h = Home(passphrase=s.passphrase)
    p, lines = h.start_agent("--allow-no-vault")
    assert lines == ["ok"], lines
    c = Conn(h.sock)
    rep = c.call({"verb": "init", "kdf": "interactive"},
                 s.passphrase.encode())
    assert rep["ok"], rep
    s.create(c)
    s.use(c)
    return h, p, c


def memory_at_exit(p, trigger, timeout=20):
    """Trace p, run trigger(), return p's memory at its exit stop."""
    if libc.ptrace(PTRACE_SEIZE, p.pid, None,
                   ctypes.c_void_p(PTRACE_O_TRACEEXIT)) != 0:
        raise OSError(ctypes.get_errno(), "PTRACE_SEIZE")
    trigger()
    deadline = time.time() + timeout
    while True:
        assert time.time() < deadline, "no exit stop"
        pid, status = os.waitpid(p.pid, WALL)
        assert os.WIFSTOPPED(status), f"ended untraced: status {status:#x}"
        if status >> 8 == (signal.SIGTRAP | (PTRACE_EVENT_EXIT << 8)):
            try:
                return read_memory(p.pid)
            finally:
                libc.ptrace(PTRACE_DETACH, p.pid, None, None)
        # any other stop: let the signal through
        libc.ptrace(PTRACE_CONT, p.pid, None,
                    ctypes.c_void_p(os.WSTOPSIG(status)))


def test_nothing_after_lock():
    s = Secrets()
    h, p, c = init_home(s)
    with h:
        positive_control(p.pid, s)
        assert c.call({"verb": "lock"})["ok"]
        wait_idle(p.pid)
        hits = s.found(read_memory(p.pid))
        assert not hits, f"still in memory after lock: {hits}"
        # unlocking again brings the metadata back: the reader still works
        assert c.call({"verb": "unlock"}, s.passphrase.encode())["ok"]
        s.use(c)
        positive_control(p.pid, s)
        assert c.call({"verb": "lock"})["ok"]
        wait_idle(p.pid)
        hits = s.found(read_memory(p.pid))
        assert not hits, f"still in memory after unlock and lock: {hits}"


def check_exit(trigger_name):
    s = Secrets()
    h, p, c = init_home(s)
    with h:
        c.close()
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 0
        # from IDW_PASSPHRASE this time: the environment is wiped too
        args = ("--idle-timeout=2s",) if trigger_name == "idle" else ()
        p, c = agent_with_secrets(h, s, *args)
        positive_control(p.pid, s)
        # Passport JSON through memcpy last: bytes of it in registers at
        # exit must not reach the stack (lazy binding would put them there).
        assert c.call({"verb": "list"})["ok"]

        def trigger():
            if trigger_name == "stop":
                assert c.call({"verb": "stop"})["ok"]
            elif trigger_name == "sigterm":
                os.kill(p.pid, signal.SIGTERM)
            c.close()  # idle: the last client leaves

        mem = memory_at_exit(p, trigger)
        assert p.wait(timeout=10) == 0
        hits = s.found(mem)
        assert not hits, f"in memory at exit ({trigger_name}): {hits}"


def test_nothing_at_exit_after_stop():
    check_exit("stop")


def test_nothing_at_exit_after_sigterm():
    check_exit("sigterm")


def test_nothing_at_idle_exit():
    check_exit("idle")


run_cases([
    test_nothing_after_lock,
    test_nothing_at_exit_after_stop,
    test_nothing_at_exit_after_sigterm,
    test_nothing_at_idle_exit,
])
