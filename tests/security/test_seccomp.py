# SPDX-License-Identifier: ISC
"""The seccomp allowlists of idw-agentd and idw-mcp, installed for real by
sc_probe (idw_seccomp_agentd() / idw_seccomp_mcp(), the functions the
daemons call): each forbidden call ends the process by SIGSYS, x32 and
i386 calls included, and it is the whole process that dies; the calls of
the serving loop go through.  Every
action is first made without a filter, so a death by SIGSYS is the
filter's doing and not a call that never happened."""
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from idwtest import BIN, run_cases, skip  # noqa: E402

PROBE = os.path.join(BIN, "sc_probe")
SRC = os.environ.get("IDW_SOURCE_DIR",
                     os.path.join(os.path.dirname(__file__), "..", ".."))

# Forbidden in both filters (DESIGN "Agent start order", issue 4).
FORBIDDEN = [
    "open", "openat", "socket", "connect", "execve", "execveat", "ptrace",
    "mprotect_exec", "mprotect_rwx", "mmap_exec", "pkey_mprotect", "x32",
    "i386", "process_vm_readv", "process_vm_writev", "bpf", "keyctl",
    "init_module", "finit_module", "mount", "umount2", "fork",
    "fcntl_setfl", "fcntl_dupfd",
]
# idw-mcp's filter is tighter: no accept, no unlink.
MCP_ONLY = ["accept4", "unlink"]
# Syscall names no table may list, whatever the build.
NEVER_LISTED = [
    "open", "openat", "openat2", "creat", "socket", "socketpair", "connect",
    "bind", "listen", "execve", "execveat", "ptrace", "process_vm_readv",
    "process_vm_writev", "bpf", "keyctl", "add_key", "request_key",
    "init_module", "finit_module", "delete_module", "mount", "umount2",
    "pivot_root", "fork", "vfork", "clone", "clone3", "pkey_mprotect",
    "seccomp", "setuid", "setgid", "kexec_load", "userfaultfd",
    "perf_event_open", "io_uring_setup",
]

if not os.path.exists(PROBE):
    skip(f"{PROBE} is not built")
SANITIZER = subprocess.run([PROBE, "--sanitizer"], capture_output=True,
                           text=True).stdout.strip() == "1"


def probe(flt, action, *extra):
    r = subprocess.run([PROBE, flt, action, *extra], capture_output=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    if r.returncode == 77:
        skip(r.stdout.decode().strip())
    return r


def describe(r):
    if r.returncode < 0:
        return f"killed by {signal.Signals(-r.returncode).name}"
    return (f"exit {r.returncode}: {r.stdout.decode().strip()} "
            f"{r.stderr.decode().strip()}")


def table(name):
    """The syscall names of one filter file's table: (always, sanitizer)."""
    with open(os.path.join(SRC, "sandbox", f"filter_{name}.c")) as f:
        text = f.read()
    always, extra, in_san = set(), set(), False
    for line in text.splitlines():
        if line.startswith("#ifdef IDW_SANITIZER_BUILD"):
            in_san = True
        elif line.startswith("#endif"):
            in_san = False
        for m in re.finditer(r'\{\s*"(\w+)"\s*,\s*IDW_SC_\w+\s*\}', line):
            (extra if in_san else always).add(m.group(1))
    assert always, f"no table found in filter_{name}.c"
    return always, extra


ia32 = {}


def i386_reaches_kernel():
    """int 0x80 needs IA32 emulation; without it the call is a SIGSEGV."""
    if "ok" not in ia32:
        ia32["ok"] = probe("none", "i386").returncode == 3
        if not ia32["ok"]:
            print("  (i386 calls cannot be made on this kernel: "
                  "that check is skipped)")
    return ia32["ok"]


def check_killed(flt, actions):
    for a in actions:
        if a == "i386" and not i386_reaches_kernel():
            continue
        r = probe(flt, a)
        assert r.returncode == -signal.SIGSYS, \
            f"{flt} filter, {a}: expected SIGSYS, got {describe(r)}"


def test_actions_reach_the_kernel_without_a_filter():
    for a in FORBIDDEN + MCP_ONLY:
        if a == "i386" and not i386_reaches_kernel():
            continue
        r = probe("none", a)
        assert r.returncode == 3, f"{a} without a filter: {describe(r)}"
    r = probe("none", "allowed")
    assert r.returncode == 0, describe(r)


def test_agentd_forbidden_calls_die_by_sigsys():
    check_killed("agentd", FORBIDDEN)


def test_agentd_allowed_calls_succeed():
    r = probe("agentd", "allowed")
    assert r.returncode == 0, describe(r)
    # accept4 and unlink are the agent's: they return, not kill
    for a in MCP_ONLY:
        r = probe("agentd", a)
        assert r.returncode == 3, f"agentd, {a}: {describe(r)}"


def test_mcp_forbidden_calls_die_by_sigsys():
    check_killed("mcp", FORBIDDEN + MCP_ONLY)


def test_mcp_allowed_calls_succeed():
    r = probe("mcp", "allowed")
    assert r.returncode == 0, describe(r)


def test_stop_and_continue_inside_poll_survives():
    # SIGSTOP/SIGCONT (job control, a debugger, the suspend freezer) in
    # the middle of poll with a timeout: the kernel resumes the call with
    # restart_syscall, which must not kill.
    for flt in ("none", "agentd", "mcp"):
        r = probe(flt, "stop_cont")
        assert r.returncode == 3, f"{flt} filter, stop_cont: {describe(r)}"


def test_a_kill_ends_the_whole_process():
    # The filter and the call in a second thread: SIGSYS for the process,
    # not just that thread, for a listed-nowhere call and a foreign ABI.
    for flt in ("agentd", "mcp"):
        for a in ("open", "mprotect_exec", "x32", "i386"):
            if a == "i386" and not i386_reaches_kernel():
                continue
            r = probe(flt, a, "--in-thread")
            assert r.returncode == -signal.SIGSYS, \
                f"{flt} filter, {a} in a thread: {describe(r)}"


def test_tables_list_no_forbidden_call():
    for name in ("agentd", "mcp"):
        always, extra = table(name)
        bad = sorted((always | extra) & set(NEVER_LISTED))
        assert not bad, f"filter_{name}.c lists {bad}"
    # idw-mcp's filter is a subset of the agent's
    a_always, a_extra = table("agentd")
    m_always, m_extra = table("mcp")
    assert m_always <= a_always, sorted(m_always - a_always)
    assert not {"accept4", "unlink", "pwrite64", "ftruncate"} & m_always


print(f"sanitizer build: {'yes' if SANITIZER else 'no'}")
run_cases([
    test_actions_reach_the_kernel_without_a_filter,
    test_agentd_forbidden_calls_die_by_sigsys,
    test_agentd_allowed_calls_succeed,
    test_mcp_forbidden_calls_die_by_sigsys,
    test_mcp_allowed_calls_succeed,
    test_stop_and_continue_inside_poll_survives,
    test_a_kill_ends_the_whole_process,
    test_tables_list_no_forbidden_call,
])
