# SPDX-License-Identifier: ISC
"""The idw CLI end to end on throwaway vaults: init, create (value from
stdin, repeated and comma options), list filters and --json, show without
the value, get, revoke/suspend/resume, exit statuses (usage 2, denied 3,
unlock failed or locked 5, person proof failed 6), a wrong passphrase and
a missing vault at autostart, lock/unlock, agent start/stop/status/restart,
two homes whose agents never mix, and person proof: resume takes the
passphrase from the terminal or --passphrase-stdin, never IDW_PASSPHRASE,
and a failed proof is answered late without holding up other clients."""
import json
import os
import pty
import pwd
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import idwtest  # noqa: E402  (the wire protocol, spoken directly)

PASS = "correct horse battery staple"
ID_RE = re.compile(r"^pp_[0-9a-f]{16}\n$")


def skip(reason):
    print("SKIP: " + reason)
    sys.exit(77)


BIN = os.environ.get("IDW_BIN", "")
IDW = os.path.join(BIN, "idw")
AGENTD = os.path.join(BIN, "idw-agentd")
if not BIN:
    skip("IDW_BIN is not set (ctest sets it to the build's bin directory)")
for exe in (IDW, AGENTD):
    if not os.access(exe, os.X_OK):
        skip(exe + " is not built")


class Home:
    """A fresh IDW_HOME (0700) and socket path in a temp dir; the agent of
    this home is stopped, and killed if need be, on the way out."""

    def __init__(self, init=True, passphrase=PASS):
        self.dir = tempfile.mkdtemp(prefix="idw-cli-")
        os.chmod(self.dir, 0o700)
        self.home = os.path.join(self.dir, "home")
        os.mkdir(self.home, 0o700)
        self.sock = os.path.join(self.dir, "agent.sock")
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": self.dir,
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "IDW_HOME": self.home,
            "IDW_SOCKET": self.sock,
        }
        if passphrase is not None:
            self.env["IDW_PASSPHRASE"] = passphrase
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                self.env[k] = os.environ[k]
        self.do_init = init

    def __enter__(self):
        try:
            if self.do_init:
                r = self.idw("init", "--kdf", "interactive")
                assert r.returncode == 0, r
                assert r.stdout.startswith("vault created: "), r
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def idw(self, *args, stdin="", env=None, timeout=60):
        """Run idw in its own session (no controlling terminal: it can
        never prompt) from the temp dir (no stray ./.env)."""
        e = dict(self.env)
        for k, v in (env or {}).items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        data = stdin.encode() if isinstance(stdin, str) else stdin
        p = subprocess.run([IDW] + list(args), input=data, env=e,
                           cwd=self.dir, capture_output=True,
                           timeout=timeout, start_new_session=True)
        return Result(args, p)

    def create(self, value="s3cr3t", *args, name="key", typ="api-key"):
        r = self.idw("create", "--name", name, "--type", typ, *args,
                     stdin=value)
        assert r.returncode == 0, r
        assert ID_RE.match(r.stdout), r
        return r.stdout.strip()

    def show(self, pid):
        r = self.idw("show", pid, "--json")
        assert r.returncode == 0, r
        return json.loads(r.stdout)

    def listing(self, *args):
        r = self.idw("list", "--json", *args)
        assert r.returncode == 0, r
        return json.loads(r.stdout)["passports"]

    def get(self, pid, purpose="test", env=None):
        return self.idw("get", pid, "--purpose", purpose, env=env)

    def resume(self, pid, passphrase=PASS):
        """resume with person proof, the passphrase on stdin."""
        return self.idw("resume", pid, "--passphrase-stdin",
                        stdin=passphrase + "\n")

    def agent_pid(self):
        r = self.idw("agent", "status", "--json", env={"IDW_PASSPHRASE":
                                                        None})
        if r.returncode != 0:
            return None
        try:
            return json.loads(r.stdout).get("pid")
        except ValueError:
            return None

    def cleanup(self):
        pid = None
        try:
            pid = self.agent_pid()
            self.idw("agent", "stop", timeout=20)
        except Exception:
            traceback.print_exc()
        finally:
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            shutil.rmtree(self.dir, ignore_errors=True)


class Result:
    def __init__(self, args, p):
        self.args = args
        self.returncode = p.returncode
        self.stdout_bytes = p.stdout
        self.stdout = p.stdout.decode(errors="replace")
        self.stderr = p.stderr.decode(errors="replace")

    def __repr__(self):
        return "idw %s -> %d\nstdout: %r\nstderr: %r" % (
            " ".join(self.args), self.returncode, self.stdout[:2000],
            self.stderr[:2000])


def expect(r, code, err_has=None):
    assert r.returncode == code, "want exit %d: %r" % (code, r)
    if err_has is not None:
        assert err_has.lower() in r.stderr.lower(), \
            "want %r in stderr: %r" % (err_has, r)


def utc(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc).timestamp()


# ---------------------------------------------------------------------------


def test_init_creates_once():
    with Home() as h:
        assert os.path.exists(os.path.join(h.home, "vault.idw"))
        mode = os.stat(os.path.join(h.home, "vault.idw")).st_mode & 0o777
        assert mode & 0o077 == 0, oct(mode)
        st = h.idw("agent", "status", "--json")
        expect(st, 0)
        assert json.loads(st.stdout)["initialized"] is True
        r = h.idw("init", "--kdf", "interactive")
        expect(r, 1, "already exists")


def test_init_passphrase_stdin_and_rules():
    with Home(init=False, passphrase=None) as h:
        expect(h.idw("init", "--kdf", "interactive", "--passphrase-stdin",
                     stdin="short\n"), 1, "8 bytes")
        expect(h.idw("init", "--kdf", "interactive", "--passphrase-stdin"),
               1, "stdin")
        # no terminal and nothing else: refused with a hint
        expect(h.idw("init", "--kdf", "interactive"), 1, "IDW_PASSPHRASE")
        expect(h.idw("init", "--kdf", "fast"), 2)
        r = h.idw("init", "--kdf", "interactive", "--passphrase-stdin",
                  stdin=PASS + "\r\nignored\n")
        expect(r, 0)
        # the passphrase was the first line, without its CRLF
        h.idw("agent", "stop")
        expect(h.idw("list", env={"IDW_PASSPHRASE": PASS}), 0)
        h.idw("agent", "stop")
        expect(h.idw("unlock", "--passphrase-stdin", stdin=PASS + "\n"), 0)
        # the same first line made the person-proof key
        pid = h.create("v", name="k")
        expect(h.idw("suspend", pid), 0)
        expect(h.resume(pid), 0)
        expect(h.idw("list"), 0)


def test_create_prints_id_and_get_prints_value():
    with Home() as h:
        cases = [("plain", "abc"), ("lf", "abc\n"), ("crlf", "abc\r\n"),
                 ("inner", "a\nb\n"), ("two", "x\n\n"), ("cr", "y\r"),
                 ("utf8", "p\u00e4ss \u2603")]
        want = {"plain": "abc", "lf": "abc", "crlf": "abc", "inner": "a\nb",
                "two": "x\n", "cr": "y\r", "utf8": "p\u00e4ss \u2603"}
        ids = {}
        for name, value in cases:
            ids[name] = h.create(value, name=name)
        assert len(set(ids.values())) == len(cases)
        for name, pid in ids.items():
            r = h.get(pid, "checking " + name)
            expect(r, 0)
            assert r.stdout_bytes == (want[name] + "\n").encode(), (name, r)
        # binary-safe up to the 64 KiB bound
        big = "v" * 65536
        pid = h.create(big + "\n", name="big")
        assert h.get(pid).stdout == big + "\n"
        expect(h.idw("create", "--name", "huge", "--type", "api-key",
                     stdin="v" * 65537), 1, "64 KiB")


def test_create_refuses_empty_value_and_value_argument():
    with Home() as h:
        expect(h.idw("create", "--name", "e", "--type", "api-key",
                     stdin=""), 1, "empty")
        expect(h.idw("create", "--name", "e", "--type", "api-key",
                     stdin="\n"), 1, "empty")
        expect(h.idw("create", "--name", "e", "--type", "api-key",
                     "--value", "x", stdin="x"), 2)
        assert h.listing() == []


def test_create_fields_repeated_and_comma_options():
    with Home() as h:
        pid = h.create("v1", "--platform", "openai", "--platform",
                       "azure,anthropic", "--scope", "read,write",
                       "--scope", "admin", "--tag", "t1", "--tag", "t2,t1",
                       "--visa", "privilege", "--path", "prod/openai",
                       "--notes", "rotate monthly", "--tier", "critical",
                       "--agent", "ci-bot", "--owner", "alice",
                       name="OpenAI Production")
        p = h.show(pid)
        assert p["id"] == pid
        assert p["name"] == "OpenAI Production"
        assert p["credential_type"] == "api-key"
        assert p["platforms"] == ["openai", "azure", "anthropic"], p
        assert p["visa"]["type"] == "privilege"
        assert p["visa"]["scope"] == ["read", "write", "admin"], p
        assert p["tags"] == ["t1", "t2"], p
        assert p["path"] == "prod/openai"
        assert p["notes"] == "rotate monthly"
        assert p["access_tier"] == "critical"
        assert p["agent_id"] == "ci-bot"
        assert p["human_owner"] == "alice"


def test_create_owner_and_validity_defaults():
    with Home() as h:
        me = pwd.getpwuid(os.geteuid()).pw_name
        before = time.time()
        p = h.show(h.create("v", name="default"))
        assert p["human_owner"] == me, p
        assert abs(utc(p["valid_from"]) - before) < 60
        span = utc(p["valid_until"]) - utc(p["valid_from"])
        assert span == 90 * 86400, span
        assert p["status"] == "active"

        p = h.show(h.create("v", "--no-owner", "--valid-days", "10",
                            name="ten"))
        assert p["human_owner"] is None, p
        span = utc(p["valid_until"]) - utc(p["valid_from"])
        assert span == 10 * 86400, span
        assert p["status"] == "expiring"

        p = h.show(h.create("v", "--valid-until", "2099-12-31", name="d"))
        assert p["valid_until"] == "2099-12-31T23:59:59Z", p

        expect(h.idw("create", "--name", "x", "--type", "api-key",
                     "--owner", "bob", "--no-owner", stdin="v"), 2)
        expect(h.idw("create", "--name", "x", "--type", "api-key",
                     "--valid-days", "3", "--valid-until", "2099-01-01",
                     stdin="v"), 2)


def test_list_filters_and_json():
    with Home() as h:
        assert h.listing() == []
        r = h.idw("list")
        expect(r, 0)
        assert r.stdout == ""
        a = h.create("va", "--platform", "openai", name="alpha")
        b = h.create("vb", "--platform", "github,openai", name="beta")
        c = h.create("vc", "--platform", "github", name="gamma")
        expect(h.idw("suspend", b, "--reason", "investigating"), 0)
        expect(h.idw("revoke", c, "--reason", "leaked"), 0)

        assert {p["id"] for p in h.listing()} == {a, b, c}
        assert {p["id"] for p in h.listing("--platform", "openai")} == {a, b}
        assert {p["id"] for p in h.listing("--platform", "github")} == {b, c}
        assert [p["id"] for p in h.listing("--status", "suspended")] == [b]
        assert [p["id"] for p in h.listing("--status", "revoked")] == [c]
        assert [p["id"] for p in h.listing("--status", "active")] == [a]
        assert h.listing("--status", "expired") == []
        assert h.listing("--platform", "nowhere") == []
        assert [p["id"] for p in h.listing("--status", "suspended",
                                           "--platform", "github")] == [b]

        r = h.idw("list")
        expect(r, 0)
        lines = r.stdout.splitlines()
        assert lines[0].split()[:2] == ["ID", "NAME"], r
        assert len(lines) == 4, r
        for pid, name in ((a, "alpha"), (b, "beta"), (c, "gamma")):
            assert any(pid in ln and name in ln for ln in lines), r
        expect(h.idw("list", "--status", "gone"), 2)


def test_list_follows_pages():
    with Home() as h:
        ids = {h.create("v%d" % i, name="n%03d" % i) for i in range(120)}
        got = [p["id"] for p in h.listing()]
        assert len(got) == len(ids) and set(got) == ids


def test_show_and_list_never_contain_the_value():
    with Home() as h:
        value = "VALUE-5f3a9c1e-never-shown"
        pid = h.create(value, "--platform", "x", name="hidden")
        for args in (("show", pid), ("show", pid, "--json"), ("list",),
                     ("list", "--json"), ("agent", "status"),
                     ("agent", "status", "--json")):
            r = h.idw(*args)
            expect(r, 0)
            assert value not in r.stdout and value not in r.stderr, args
        r = h.get(pid)
        assert r.stdout == value + "\n"
        assert value not in r.stderr


def test_display_escapes_untrusted_text():
    with Home() as h:
        name = "evil\x1b[31m\u202eslin\x07"
        pid = h.create("v", "--notes", "line1\nline2", name=name)
        for args in (("list",), ("show", pid)):
            r = h.idw(*args)
            expect(r, 0)
            assert "\x1b" not in r.stdout and "\x07" not in r.stdout, r
            assert "\u202e" not in r.stdout, r
            assert "\\x1b" in r.stdout and "[U+202E]" in r.stdout, r
        r = h.idw("show", pid)
        assert "line1\\x0aline2" in r.stdout, r
        # JSON output stays exact
        assert h.show(pid)["name"] == name


def test_revoke_suspend_resume_and_denials():
    with Home() as h:
        pid = h.create("live-value", name="k")
        expect(h.idw("suspend", pid), 0)
        assert h.show(pid)["status"] == "suspended"
        r = h.get(pid)
        expect(r, 3)
        assert r.stdout == "" and "suspend" in r.stderr, r
        expect(h.resume(pid), 0)
        assert h.show(pid)["status"] == "active"
        assert h.get(pid).stdout == "live-value\n"

        expect(h.idw("revoke", pid), 2, "--reason")
        r = h.idw("revoke", pid, "--reason", "leaked in a log")
        expect(r, 0)
        assert pid in r.stdout and "revoked" in r.stdout, r
        p = h.show(pid)
        assert p["status"] == "revoked"
        assert p["revocation"]["reason"] == "leaked in a log"
        r = h.get(pid)
        expect(r, 3)
        assert r.stdout == "" and "revoked" in r.stderr, r
        # revocation is final, proof or not
        expect(h.resume(pid), 3, "revoked")
        expect(h.get(pid), 3)
        expect(h.idw("get", "pp_0000000000000000", "--purpose", "x"), 1)


def test_expired_is_denied():
    with Home() as h:
        # an end already past is refused at create
        r = h.idw("create", "--name", "old", "--type", "api-key",
                  "--valid-until", "2020-01-01", stdin="old-value")
        assert r.returncode in (1, 2), r
        # so let one run out: --valid-until takes an RFC 3339 time too
        end = int(time.time()) + 2
        stamp = datetime.fromtimestamp(end, timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        pid = h.create("soon-old", "--valid-until", stamp, name="brief")
        assert h.show(pid)["valid_until"] == stamp
        while time.time() < end + 1.2:
            time.sleep(0.2)
        assert h.show(pid)["status"] == "expired"
        assert [p["id"] for p in h.listing("--status", "expired")] == [pid]
        r = h.get(pid)
        expect(r, 3, "expired")
        assert "soon-old" not in r.stdout


def test_wrong_passphrase_exits_5():
    with Home() as h:
        pid = h.create("v", name="k")
        expect(h.idw("agent", "stop"), 0)
        expect(h.idw("agent", "status"), 1)
        r = h.get(pid, env={"IDW_PASSPHRASE": "not the passphrase"})
        expect(r, 5, "passphrase")
        assert r.stdout == ""
        assert h.agent_pid() is None
        # no source at all and no terminal: exit 5, saying what was missing
        r = h.get(pid, env={"IDW_PASSPHRASE": None})
        expect(r, 5, "IDW_PASSPHRASE")
        assert h.get(pid).stdout == "v\n"


def test_missing_vault_on_autostart_exits_5():
    with Home(init=False) as h:
        r = h.idw("list")
        expect(r, 5)
        assert "init" in r.stderr or "vault" in r.stderr, r
        assert r.stderr.startswith("idw: "), r
        r = h.idw("create", "--name", "x", "--type", "api-key", stdin="v")
        expect(r, 5)
        vault = os.path.join(h.home, "vault.idw")
        assert not os.path.exists(vault) or os.path.getsize(vault) == 0
        # and init still works afterwards
        expect(h.idw("init", "--kdf", "interactive"), 0)
        h.create("v", name="after")


def test_lock_and_unlock():
    with Home() as h:
        pid = h.create("locked-value", name="k")
        r = h.idw("lock")
        expect(r, 0)
        r = h.get(pid)
        expect(r, 5, "locked")
        assert r.stdout == ""
        expect(h.idw("list"), 5, "locked")
        # a locked agent still answers status, and says so
        st = json.loads(h.idw("agent", "status", "--json").stdout)
        assert st["locked"] is True
        expect(h.idw("unlock", env={"IDW_PASSPHRASE": "wrong passphrase"}),
               5)
        expect(h.get(pid), 5)
        expect(h.idw("unlock"), 0)
        assert h.get(pid).stdout == "locked-value\n"
        r = h.idw("unlock")
        expect(r, 0)
        assert "already" in r.stdout
        # no agent: lock is a no-op, unlock starts one
        expect(h.idw("agent", "stop"), 0)
        expect(h.idw("lock"), 0)
        expect(h.idw("unlock"), 0)
        assert h.agent_pid() is not None


def test_agent_lifecycle():
    with Home() as h:
        r = h.idw("agent", "start")
        expect(r, 0)
        pid = h.agent_pid()
        assert pid and str(pid) in r.stdout, r
        r = h.idw("agent", "status")
        expect(r, 0)
        assert "running" in r.stdout and str(pid) in r.stdout, r
        expect(h.idw("agent", "restart"), 0)
        pid2 = h.agent_pid()
        assert pid2 and pid2 != pid
        try:
            os.kill(pid, 0)
            alive = open("/proc/%d/stat" % pid).read().split(")")[1].split()[0]
            assert alive in ("Z", "X"), "old agent %d still runs" % pid
        except (ProcessLookupError, FileNotFoundError):
            pass
        expect(h.idw("agent", "stop"), 0)
        r = h.idw("agent", "status")
        expect(r, 1)
        assert "no agent" in r.stdout, r
        r = h.idw("agent", "status", "--json")
        expect(r, 1)
        assert json.loads(r.stdout)["running"] is False
        r = h.idw("agent", "stop")
        expect(r, 0)
        assert r.stdout == "" and r.stderr == "", r


def test_usage_errors_exit_2():
    with Home(init=False) as h:
        for args in ((), ("frobnicate",), ("--frobnicate",),
                     ("show",), ("show", "a", "b"), ("get", "pp_0"),
                     ("get", "pp_0", "--purpose", ""), ("create",),
                     ("create", "--name", "x"),
                     ("create", "--name", "x", "--type", "nope"),
                     ("create", "--name", "x", "--type", "api-key",
                      "--valid-days", "zero"),
                     ("create", "--name", "x", "--type", "api-key",
                      "--tier", "gold"),
                     ("list", "--json=yes"), ("list", "--platform"),
                     ("suspend",), ("agent",), ("agent", "reboot"),
                     ("lock", "now")):
            r = h.idw(*args, stdin="v")
            assert r.returncode == 2, r
            assert r.stdout == "", r
            assert r.stderr != "", r
        for args in (("--help",), ("create", "--help"), ("agent", "--help"),
                     ("agent", "status", "--help"), ("get", "-h")):
            r = h.idw(*args)
            expect(r, 0)
            assert "usage: idw" in r.stdout, r
        r = h.idw("--version")
        expect(r, 0)
        assert r.stdout.startswith("idw "), r
        # nothing was started for any of that
        assert h.agent_pid() is None


def test_two_homes_never_mix():
    with Home() as a, Home(passphrase="another passphrase entirely") as b:
        ida = a.create("value-of-A", name="shared-name")
        idb = b.create("value-of-B", name="shared-name")
        assert a.get(ida).stdout == "value-of-A\n"
        assert b.get(idb).stdout == "value-of-B\n"
        assert [p["id"] for p in a.listing()] == [ida]
        assert [p["id"] for p in b.listing()] == [idb]
        expect(a.get(idb), 1)
        expect(b.get(ida), 1)
        pa, pb = a.agent_pid(), b.agent_pid()
        assert pa and pb and pa != pb
        # B's home aimed at A's socket: the client refuses A's agent
        r = b.get(ida, env={"IDW_SOCKET": a.sock})
        assert r.returncode != 0, r
        assert "value-of-A" not in r.stdout
        r = b.idw("list", "--json", env={"IDW_SOCKET": a.sock})
        assert r.returncode != 0 and ida not in r.stdout, r
        # stopping B leaves A serving
        expect(b.idw("agent", "stop"), 0)
        assert a.get(ida).stdout == "value-of-A\n"
        assert a.agent_pid() == pa
        # and B's home never starts or reaches A's agent by its own path
        r = b.get(idb, env={"IDW_PASSPHRASE": "correct horse battery staple"})
        expect(r, 5)
        assert a.agent_pid() == pa


def run_tty(h, args, answers, env=None, timeout=30):
    """Run idw on a new pseudo-terminal (stdin, stdout, stderr and
    /dev/tty), answering each prompt in turn.  Returns the exit status and
    everything the terminal showed: with echo off, never an answer."""
    e = dict(h.env)
    for k, v in (env or {}).items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.chdir(h.dir)
            os.execve(IDW, [IDW] + list(args), e)
        finally:
            os._exit(127)
    out = b""
    deadline = time.monotonic() + timeout
    pending = list(answers)
    try:
        while True:
            if pending and pending[0][0].encode() in out:
                prompt, answer = pending.pop(0)
                out = out.replace(prompt.encode(), b"<" + prompt.encode()
                                  + b">", 1)
                os.write(fd, answer.encode() + b"\n")
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                raise AssertionError("idw on a tty timed out: %r" % out)
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    assert not pending, "prompts never shown: %r in %r" % (pending, out)
    return code, out.decode(errors="replace")


def test_terminal_prompts_without_echo():
    with Home(init=False, passphrase=None) as h:
        no_env = {"IDW_PASSPHRASE": None}
        code, out = run_tty(h, ["init", "--kdf", "interactive"],
                            [("New passphrase: ", PASS),
                             ("Same passphrase again: ", PASS + "x")])
        assert code == 1 and "do not match" in out, (code, out)
        code, out = run_tty(h, ["init", "--kdf", "interactive"],
                            [("New passphrase: ", PASS),
                             ("Same passphrase again: ", PASS)])
        assert code == 0 and "vault created" in out, (code, out)
        assert PASS not in out, out

        code, out = run_tty(h, ["create", "--name", "k", "--type",
                                "api-key"],
                            [("Value for k: ", "typed-value")])
        assert code == 0, (code, out)
        assert "typed-value" not in out, out
        pid = re.search(r"pp_[0-9a-f]{16}", out).group(0)
        assert h.get(pid, env={"IDW_PASSPHRASE": PASS}).stdout == \
            "typed-value\n"

        # locked agent: unlock asks on the terminal
        expect(h.idw("lock"), 0)
        code, out = run_tty(h, ["unlock"],
                            [("Passphrase for %s: " % h.home, PASS)],
                            env=no_env)
        assert code == 0 and "unlocked" in out, (code, out)
        assert PASS not in out

        # no agent and no unlock source: the client asks, then starts it
        expect(h.idw("agent", "stop"), 0)
        code, out = run_tty(h, ["get", pid, "--purpose", "tty"],
                            [("Passphrase for %s: " % h.home, "wrong one")],
                            env=no_env)
        assert code == 5, (code, out)
        assert h.agent_pid() is None
        code, out = run_tty(h, ["get", pid, "--purpose", "tty"],
                            [("Passphrase for %s: " % h.home, PASS)],
                            env=no_env)
        assert code == 0 and "typed-value" in out, (code, out)
        assert PASS not in out


def test_resume_takes_person_proof():
    with Home() as h:
        pid = h.create("proof-value", name="k")
        expect(h.idw("suspend", pid), 0)
        # IDW_PASSPHRASE is set, but it unlocks; it proves no one is here.
        # No terminal and no --passphrase-stdin: a clear refusal, at once.
        t0 = time.monotonic()
        r = h.idw("resume", pid, timeout=20)
        expect(r, 6, "--passphrase-stdin")
        assert "terminal" in r.stderr, r
        assert time.monotonic() - t0 < 10, r
        expect(h.idw("resume", pid, "--passphrase-stdin", stdin=""), 6,
               "stdin")
        assert h.show(pid)["status"] == "suspended"

        # A wrong passphrase: exit 6, answered late, nothing changed.
        t0 = time.monotonic()
        r = h.resume(pid, "not the passphrase")
        took = time.monotonic() - t0
        expect(r, 6, "person proof failed")
        assert took >= 0.25, took
        assert r.stdout == "", r
        assert h.show(pid)["status"] == "suspended"
        assert h.get(pid).returncode == 3
        # The correct one right after works, at once.
        r = h.resume(pid)
        expect(r, 0)
        assert pid in r.stdout and "active" in r.stdout, r
        assert h.show(pid)["status"] == "active"
        assert h.get(pid).stdout == "proof-value\n"

        # Two failures in a row: the second waits twice as long; a
        # success resets the delay.
        expect(h.idw("suspend", pid), 0)
        expect(h.resume(pid, "wrong one"), 6)
        t0 = time.monotonic()
        expect(h.resume(pid, "wrong two"), 6)
        assert time.monotonic() - t0 >= 0.5
        expect(h.resume(pid), 0)
        expect(h.idw("suspend", pid), 0)
        expect(h.resume(pid, "wrong three"), 6)
        expect(h.resume(pid), 0)
        # The passphrase never shows.
        for args in (("list", "--json"), ("show", pid, "--json")):
            assert PASS not in h.idw(*args).stdout


def test_failed_proof_is_held_without_stalling_others():
    with Home() as h:
        pid = h.create("v", name="k")
        expect(h.idw("suspend", pid), 0)
        a = idwtest.Conn(h.sock)
        b = idwtest.Conn(h.sock)
        try:
            ch = a.call({"verb": "challenge", "for": "resume"})
            assert ch["ok"] and len(ch["challenge"]) == 64, ch
            assert "pk" not in ch, ch
            for want in (0.25, 0.5):
                t0 = time.monotonic()
                a.s.sendall(idwtest.frame(idwtest.REQUEST, {
                    "verb": "resume", "id": pid,
                    "proof": {"challenge": ch["challenge"],
                              "signature": "00" * 64}}, req_id=7))
                # meanwhile everyone else is served at once
                st = b.call({"verb": "status"})
                assert st["ok"], st
                assert time.monotonic() - t0 < want, "status was held"
                ftype, rid, rep, _ = idwtest.read_frame(a.s)
                took = time.monotonic() - t0
                assert rid == 7 and rep["code"] == "proof_failed", rep
                assert took >= want, (want, took)
                # the challenge was used up by the failure
                ch = a.call({"verb": "challenge", "for": "resume"})
            # a client that hangs up while its answer is held harms no one
            a.s.sendall(idwtest.frame(idwtest.REQUEST, {
                "verb": "resume", "id": pid}, req_id=8))
            time.sleep(0.1)
            a.close()
            assert b.call({"verb": "status"})["ok"]
            # no proof at all: refused the same way
            r = b.call({"verb": "resume", "id": pid})
            assert r["code"] == "proof_failed", r
        finally:
            b.close()
        assert h.show(pid)["status"] == "suspended"
        expect(h.resume(pid), 0)


def test_stop_drops_a_held_answer():
    with Home() as h:
        pid = h.create("v", name="k")
        a = idwtest.Conn(h.sock)
        b = idwtest.Conn(h.sock)

        def bad_proof():
            ch = a.call({"verb": "challenge", "for": "resume"})
            a.s.sendall(idwtest.frame(idwtest.REQUEST, {
                "verb": "resume", "id": pid,
                "proof": {"challenge": ch["challenge"],
                          "signature": "00" * 64}}, req_id=9))

        try:
            for _ in range(2):
                bad_proof()
                assert idwtest.read_frame(a.s)[2]["code"] == "proof_failed"
            # the third answer is held for 1 s: stopping the agent ends
            # the connection without it, and at once
            bad_proof()
            t0 = time.monotonic()
            assert b.call({"verb": "stop"})["ok"]
            try:
                got = idwtest.read_frame(a.s)
            except (ConnectionError, OSError):
                got = None
            assert got is None, got
            assert time.monotonic() - t0 < 0.9
        finally:
            a.close()
            b.close()


def test_resume_asks_on_the_terminal():
    with Home() as h:
        pid = h.create("v", name="k")
        expect(h.idw("suspend", pid), 0)
        code, out = run_tty(h, ["resume", pid],
                            [("Passphrase to confirm resume: ", "wrong!")])
        assert code == 6 and "person proof failed" in out, (code, out)
        code, out = run_tty(h, ["resume", pid],
                            [("Passphrase to confirm resume: ", PASS)])
        assert code == 0 and "active" in out, (code, out)
        assert PASS not in out, out


# ---------------------------------------------------------------------------


def main():
    tests = [(n, f) for n, f in sorted(globals().items())
             if n.startswith("test_") and callable(f)]
    only = sys.argv[1:]
    passed = failed = 0
    for name, fn in tests:
        if only and name not in only:
            continue
        t0 = time.monotonic()
        try:
            fn()
        except Exception:
            failed += 1
            print("FAIL %s (%.1fs)" % (name, time.monotonic() - t0))
            traceback.print_exc()
        else:
            passed += 1
            print("ok   %s (%.1fs)" % (name, time.monotonic() - t0))
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
