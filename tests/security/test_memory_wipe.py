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
sees the memory where secrets would be.  And the programs are linked to
bind every symbol at start, so no lazy-binding trampoline spills the
vector registers (bytes of the last memcpy) onto the stack."""
import ctypes
import os
import secrets
import signal
import string
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from idwtest import BIN, Conn, Home, need_bin, run_cases, skip  # noqa: E402

need_bin()
if os.geteuid() != 0:
    skip("needs root to read another process's memory")

PTRACE_CONT, PTRACE_DETACH = 7, 17
PTRACE_SEIZE, PTRACE_O_TRACEEXIT, PTRACE_EVENT_EXIT = 0x4206, 0x40, 6
WALL = 0x40000000
BIG = 128 << 20
CHUNK = 1 << 20
SPECIAL = ("[vvar]", "[vvar_vclock]", "[vsyscall]")
PROBE = os.path.join(BIN, "sc_probe")
SANITIZER = os.path.exists(PROBE) and subprocess.run(
    [PROBE, "--sanitizer"], capture_output=True,
    text=True).stdout.strip() == "1"

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                        ctypes.c_void_p]


def rnd(n=40):
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


def read_memory(pid):
    """A reader over every mapping of pid: /proc/PID/mem reads PROT_NONE
    pages too, so guarded areas count.  Mappings over BIG are skipped:
    ASan's shadow and reservations, never present in a plain build."""
    with open(f"/proc/{pid}/maps") as m:
        lines = [line.strip() for line in m]
    skipped = []
    for line in lines:
        start, end = (int(x, 16) for x in line.split()[0].split("-"))
        if end - start > BIG:
            skipped.append(line)
    assert SANITIZER or not skipped, f"mappings left unread: {skipped}"
    return Memory(pid, [x for x in lines if x not in skipped])


class Memory:
    def __init__(self, pid, lines):
        self.pid, self.lines = pid, lines

    def chunks(self, overlap):
        """(maps line, bytes), each chunk starting overlap bytes early."""
        fd = os.open(f"/proc/{self.pid}/mem", os.O_RDONLY)
        try:
            for line in self.lines:
                parts = line.split()
                start, end = (int(x, 16) for x in parts[0].split("-"))
                if len(parts) > 5 and parts[5] in SPECIAL:
                    continue
                pos = start
                while pos < end:
                    at = max(start, pos - overlap)
                    n = min(CHUNK, end - pos)
                    try:
                        yield line, os.pread(fd, pos + n - at, at)
                    except OSError:
                        n = min(4096, n)  # an unreadable page
                    pos += n
        finally:
            os.close(fd)

    def find(self, needles):
        """{needle: [maps lines holding it]} for the needles found."""
        hits = {}
        overlap = max(len(n) for n in needles)
        for line, data in self.chunks(overlap):
            for n in needles:
                if n in data and line not in hits.get(n, []):
                    hits.setdefault(n, []).append(line)
        return hits


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


class Secrets:
    def __init__(self, n=4):
        self.passphrase = rnd(32)
        self.values = [rnd() for _ in range(n)]
        self.names = [f"wipe-{rnd(24)}" for _ in range(n)]
        self.ids = []

    def create(self, c):
        for name, value in zip(self.names, self.values):
            rep = c.call({"verb": "create", "name": name,
                          "credential_type": "api-key",
                          "human_owner": "tester"}, value.encode())
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
        kinds = {self.passphrase.encode(): "passphrase"}
        kinds.update((v.encode(), "value") for v in self.values)
        if names:
            kinds.update((n.encode(), "name") for n in self.names)
        hits = {}
        for needle, where in mem.find(list(kinds)).items():
            hits.setdefault(kinds[needle], []).extend(where)
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


def start_unlocked(h, s, *args):
    """idw-agentd unlocked from IDW_PASSPHRASE, whose wiping is part of
    the claim.  A sanitizer runtime keeps its own copy of the environment
    from the start, so there the passphrase comes through a pipe."""
    if not SANITIZER:
        p, lines = h.start_agent(*args, env={"IDW_PASSPHRASE":
                                             s.passphrase})
        assert lines == ["ok"], lines
        return p
    pr, pw = os.pipe()
    os.write(pw, s.passphrase.encode())
    os.close(pw)
    r, w = os.pipe()
    p = subprocess.Popen([os.path.join(BIN, "idw-agentd"),
                          f"--status-fd={w}", f"--passphrase-fd={pr}",
                          *args], env=h.env, pass_fds=(w, pr),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    h.children.append(p)
    os.close(w)
    os.close(pr)
    with os.fdopen(r) as f:
        lines = f.read().splitlines()
    assert lines == ["ok"], lines
    return p


def agent_with_secrets(h, s, *args):
    """A restarted agent holding s's passports, used."""
    p = start_unlocked(h, s, *args)
    c = Conn(h.sock)
    if not s.ids:
        s.create(c)
    s.use(c)
    return p, c


def init_home(s):
    """A new vault made over the wire with s's passphrase and passports."""
    h = Home(passphrase=None)
    p, lines = h.start_agent("--allow-no-vault")
    assert lines == ["ok"], lines
    c = Conn(h.sock)
    rep = c.call({"verb": "init", "kdf": "interactive"},
                 s.passphrase.encode())
    assert rep["ok"], rep
    s.create(c)
    s.use(c)
    return h, p, c


def at_exit(p, trigger, inspect, timeout=20):
    """Trace p, run trigger(), return inspect(p's memory) at its exit
    stop."""
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
                return inspect(read_memory(p.pid))
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
        if SANITIZER:
            print("  (sanitizer build: the passphrase comes through a pipe)")
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

        # A sanitizer runtime's destructors run through lazily bound
        # calls, whose trampoline saves the vector registers (bytes of
        # the last memcpy) on the stack: there only secrets are checked.
        hits = at_exit(p, trigger,
                       lambda mem: s.found(mem, names=not SANITIZER))
        assert p.wait(timeout=10) == 0
        assert not hits, f"in memory at exit ({trigger_name}): {hits}"


def test_nothing_at_exit_after_stop():
    check_exit("stop")


def test_nothing_at_exit_after_sigterm():
    check_exit("sigterm")


def test_nothing_at_idle_exit():
    check_exit("idle")


def elf_binds_now(path):
    """DT_BIND_NOW, DF_BIND_NOW or DF_1_NOW in an ELF64 file's dynamic
    section."""
    with open(path, "rb") as f:
        elf = f.read()
    assert elf[:5] == b"\x7fELF\x02", f"{path}: not ELF64"
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for i in range(phnum):
        ptype, = struct.unpack_from("<I", elf, phoff + i * phentsize)
        if ptype != 2:  # PT_DYNAMIC
            continue
        off, = struct.unpack_from("<Q", elf, phoff + i * phentsize + 8)
        size, = struct.unpack_from("<Q", elf, phoff + i * phentsize + 32)
        for j in range(0, size, 16):
            tag, val = struct.unpack_from("<qQ", elf, off + j)
            if (tag == 24 or (tag == 30 and val & 0x8)
                    or (tag == 0x6ffffffb and val & 0x1)):
                return True
    return False


def test_daemons_bind_every_symbol_at_start():
    # A lazily bound call goes through a trampoline that saves the vector
    # registers on the stack, where the bytes of the last memcpy (a value
    # on its way out) would outlive every wipe.
    for prog in ("idw-agentd", "idw-mcp", "idw"):
        assert elf_binds_now(os.path.join(BIN, prog)), \
            f"{prog} is not linked with -z now"


run_cases([
    test_daemons_bind_every_symbol_at_start,
    test_nothing_after_lock,
    test_nothing_at_exit_after_stop,
    test_nothing_at_exit_after_sigterm,
    test_nothing_at_idle_exit,
])
