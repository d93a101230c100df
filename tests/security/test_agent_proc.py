# SPDX-License-Identifier: ISC
"""What /proc says of a running idw-agentd and idw-mcp: seccomp filter
mode, no new privileges, locked memory, no core files, and for the agent
only the descriptors its loop needs, whatever the starting client leaked
to it; the agent survives being stopped and continued.  Then strace of a
whole agent session (init, create, list, show, get, lock, unlock, stop)
and of a whole MCP session: after each installs its filter, every call it
makes is in its table (sandbox/filter_agentd.c, filter_mcp.c)."""
import json
import os
import re
import select
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
SRC = os.environ.get("IDW_SOURCE_DIR",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
PROBE = os.path.join(BIN, "sc_probe")
SANITIZER = os.path.exists(PROBE) and subprocess.run(
    [PROBE, "--sanitizer"], capture_output=True,
    text=True).stdout.strip() == "1"


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f
                    if ":\t" in line)


def core_limit(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max core file size"):
                return line.split()[4:6]
    raise AssertionError("no core limit in /proc/PID/limits")


def fd_targets(pid):
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            pass
    return out


def table(name):
    """Syscall names of sandbox/filter_NAME.c for this build."""
    with open(os.path.join(SRC, "sandbox", f"filter_{name}.c")) as f:
        text = f.read()
    names, in_san = set(), False
    for line in text.splitlines():
        if line.startswith("#ifdef IDW_SANITIZER_BUILD"):
            in_san = True
        elif line.startswith("#endif"):
            in_san = False
        elif not in_san or SANITIZER:
            names.update(re.findall(r'\{\s*"(\w+)"\s*,\s*IDW_SC_\w+\s*\}',
                                    line))
    assert names, f"no table in filter_{name}.c"
    return names


def assert_hardened(pid, who):
    st = proc_status(pid)
    assert st["Seccomp"].strip() == "2", f"{who}: Seccomp {st['Seccomp']}"
    assert st["NoNewPrivs"].strip() == "1", f"{who}: NoNewPrivs"
    check_vmlck(st, who)
    assert core_limit(pid) == ["0", "0"], f"{who}: {core_limit(pid)}"


def check_vmlck(st, who):
    vmlck = int(st["VmLck"].split()[0])
    if SANITIZER:
        # ASan's mlock is a no-op: nothing is ever locked there.
        print(f"  ({who}: VmLck not checked in a sanitizer build)")
        return
    assert vmlck > 0, f"{who}: VmLck {st['VmLck']}"


def test_agent_status_and_descriptors():
    with Home() as h, tempfile.TemporaryFile() as f:
        # A descriptor the starting client leaks, as careless ones do,
        # above the ones autostart hands over (status, passphrase).
        leak = 37
        os.dup2(f.fileno(), leak, inheritable=True)
        try:
            r = subprocess.run([os.path.join(BIN, "idw"), "init", "--kdf",
                                "interactive"], env=h.env,
                               capture_output=True, stdin=subprocess.DEVNULL,
                               pass_fds=(leak,), timeout=60)
        finally:
            os.close(leak)
        assert r.returncode == 0, r.stderr
        pid = h.agent_pid()
        assert pid, "no agent answers"
        assert_hardened(pid, "idw-agentd")
        home = os.path.realpath(h.home)
        expected = {
            "lock": os.path.join(home, "agentd.lock"),
            "vault": os.path.join(home, "vault.idw"),
            "audit": os.path.join(home, "audit.idw"),
            "signalfd": "anon_inode:[signalfd]",
        }
        # The status client's connection closes a moment after its reply.
        for _ in range(40):
            fds = fd_targets(pid)
            socks = [fd for fd, t in fds.items() if t.startswith("socket:")]
            if len(socks) == 1:
                break
            time.sleep(0.05)
        assert len(socks) == 1, f"sockets open while idle: {fds}"
        for fd in (0, 1, 2):
            assert fds.get(fd) == "/dev/null", f"fd {fd}: {fds.get(fd)}"
        for what, target in expected.items():
            assert target in fds.values(), f"no {what} fd: {fds}"
        allowed = set(expected.values()) | {
            f"/proc/{pid}/status", fds[socks[0]]}
        extra = {fd: t for fd, t in fds.items()
                 if fd > 2 and t not in allowed}
        assert not extra, f"descriptors the agent should not hold: {extra}"


def test_agent_survives_stop_and_continue():
    # Job control, a debugger's attach or the suspend freezer stop the
    # agent inside poll(); it must answer again afterwards.
    with Home() as h:
        p = h.init_raw()
        c = Conn(h.sock)
        assert c.call({"verb": "status"})["ok"]
        for _ in range(2):
            os.kill(p.pid, signal.SIGSTOP)
            time.sleep(0.1)
            os.kill(p.pid, signal.SIGCONT)
            time.sleep(0.1)
            assert p.poll() is None, f"the agent died: {p.returncode}"
            assert c.call({"verb": "status"})["ok"]
        c.close()


def status_lines(fd, timeout=30):
    """Status-pipe lines up to "ok" or an error (strace keeps the pipe's
    write end open, so no EOF comes)."""
    buf, end = b"", time.time() + timeout
    while time.time() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
            lines = buf.decode().splitlines()
            if buf.endswith(b"\n") and lines and (
                    lines[-1] in ("ok", "retry")
                    or lines[-1].startswith("error")):
                break
    return buf.decode().splitlines()


CALL = re.compile(r"^(\d+)\s+(?:<\.\.\. )?([a-z_][a-z0-9_]*)[( ]")
# The load that succeeds; libseccomp first probes the API with NULL filters.
INSTALL = re.compile(r"^(\d+)\s+(?:seccomp\(SECCOMP_SET_MODE_FILTER|"
                     r"prctl\(PR_SET_SECCOMP), [^{]*\{len=.*\)\s+= 0$")


def calls_after_filter(path, pid=None):
    """Syscall names each traced pid made after installing its filter."""
    after, installed = {}, set()
    with open(path) as f:
        for line in f:
            m = INSTALL.match(line)
            if m:
                installed.add(m.group(1))
                continue
            m = CALL.match(line)
            if m and m.group(1) in installed:
                after.setdefault(m.group(1), set()).add(m.group(2))
    if pid is not None:
        return str(pid) in installed, after.get(str(pid), set())
    return installed, after


def strace_cmd(out):
    return ["strace", "-f", "-qq", "-e", "trace=all", "-o", out]


def test_strace_agent_session_stays_in_allowlist():
    if not shutil.which("strace"):
        skip("strace is not installed")
    allow = table("agentd")
    with Home() as h:
        out = os.path.join(h.tmp, "agentd.strace")
        os.makedirs(h.home, mode=0o700)
        r, w = os.pipe()
        p = subprocess.Popen(
            strace_cmd(out) + [os.path.join(BIN, "idw-agentd"),
                               f"--status-fd={w}", "--allow-no-vault"],
            env=h.env, pass_fds=(w,), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        h.children.append(p)
        os.close(w)
        lines = status_lines(r)
        os.close(r)
        assert lines == ["ok"], lines
        c = Conn(h.sock, timeout=30)
        assert c.call({"verb": "init", "kdf": "interactive"},
                      PASS.encode())["ok"]
        ids = []
        for i in range(3):
            rep = c.call({"verb": "create", "name": f"p{i}",
                          "credential_type": "api-key",
                          "human_owner": "tester"},
                         os.urandom(20).hex().encode())
            assert rep["ok"], rep
            ids.append(rep["id"])
        assert c.call({"verb": "list"})["ok"]
        assert c.call({"verb": "show", "id": ids[1]})["ok"]
        msg, sec = c.call_secret({"verb": "get", "id": ids[0],
                                  "purpose": "strace"})
        assert msg["ok"] and sec, msg
        assert c.call({"verb": "status"})["ok"]
        assert c.call({"verb": "lock"})["ok"]
        assert c.call({"verb": "list"})["code"] == "locked"
        assert c.call({"verb": "unlock"}, PASS.encode())["ok"]
        c2 = Conn(h.sock)  # a second client, then its departure
        assert c2.call({"verb": "list"})["ok"]
        c2.close()
        assert c.call({"verb": "stop"})["ok"]
        c.close()
        rc = p.wait(timeout=30)
        assert rc == 0, (rc, p.stderr.read().decode()[-2000:])
        installed, after = calls_after_filter(out)
        assert installed, "no seccomp(SECCOMP_SET_MODE_FILTER) in the trace"
        assert len(after) == 1, f"more than one filtered process: {after}"
        used = next(iter(after.values()))
        outside = sorted(used - allow)
        assert not outside, f"calls outside filter_agentd.c: {outside}"
        for must in ("accept4", "exit_group"):
            assert must in used, f"{must} not seen: the trace is incomplete"
        print(f"  {len(used)} distinct calls after the filter: "
              f"{' '.join(sorted(used))}")


def mcp_session(env, calls, prefix=()):
    """Run idw-mcp over stdio: initialize, then tools/call each of calls.
    Returns (Popen, replies); the process is left running, stdin open."""
    p = subprocess.Popen([*prefix, os.path.join(BIN, "idw-mcp")], env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    msgs = [{"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                        "clientInfo": {"name": "test", "version": "0"}}},
            {"jsonrpc": "2.0", "method": "notifications/initialized"}]
    for i, (tool, args) in enumerate(calls):
        msgs.append({"jsonrpc": "2.0", "id": 2 + i, "method": "tools/call",
                     "params": {"name": tool, "arguments": args}})
    replies = []
    for m in msgs:
        p.stdin.write((json.dumps(m) + "\n").encode())
        p.stdin.flush()
        if "id" in m:
            line = p.stdout.readline()
            assert line, p.stderr.read().decode()
            replies.append(json.loads(line))
    return p, replies


def test_mcp_process():
    with Home() as h:
        h.init()
        pid_id = h.create("mcp-probe", os.urandom(20).hex())
        calls = [("list_passports", {}),
                 ("get_credential", {"passport_id": pid_id,
                                     "purpose": "security test"})]
        p, replies = mcp_session(h.env, calls)
        try:
            assert all("result" in r for r in replies), replies
            # filtered once it has spoken with the agent
            assert_hardened(p.pid, "idw-mcp")
        finally:
            p.stdin.close()
            p.wait(timeout=10)


def test_strace_mcp_session_stays_in_allowlist():
    if not shutil.which("strace"):
        skip("strace is not installed")
    allow = table("mcp")
    with Home() as h:
        h.init()  # the agent runs already: the trace holds idw-mcp only
        pid_id = h.create("mcp-trace", os.urandom(20).hex())
        out = os.path.join(h.tmp, "mcp.strace")
        calls = [("list_passports", {}),
                 ("get_credential", {"passport_id": pid_id,
                                     "purpose": "security test"}),
                 ("check_policy", {"passport_id": pid_id,
                                   "action": "read"})]
        p, replies = mcp_session(h.env, calls, strace_cmd(out))
        assert all("result" in r for r in replies), replies
        p.stdin.close()  # stdin EOF ends the session
        rc = p.wait(timeout=30)
        assert rc == 0, (rc, p.stderr.read().decode()[-2000:])
        installed, after = calls_after_filter(out)
        assert installed, "idw-mcp installed no filter during the session"
        for pid, used in after.items():
            outside = sorted(used - allow)
            assert not outside, f"idw-mcp {pid}: outside filter_mcp.c: " \
                f"{outside}"
            print(f"  {len(used)} distinct calls after the filter: "
                  f"{' '.join(sorted(used))}")


run_cases([
    test_agent_status_and_descriptors,
    test_agent_survives_stop_and_continue,
    test_strace_agent_session_stays_in_allowlist,
    test_mcp_process,
    test_strace_mcp_session_stays_in_allowlist,
])
