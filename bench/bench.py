# SPDX-License-Identifier: ISC
"""idw benchmarks: figures and ratios against peers and floors measured in
the same run.  Started by bench/run, which compiles the C helpers first.
Python 3 standard library only.  Goals are printed beside the figures;
nothing here is an assertion."""
import argparse
import fcntl
import json
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True  # leave no __pycache__ in the checkout
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
from idwtest import Conn  # noqa: E402  (the wire protocol, as tests speak it)

PASS = "correct horse battery staple"
NPM_PEERS = [
    # (key, label, package@version, argv inside node_modules, env, call)
    ("ass", "agentsecretstore 1.0.0", "@agentsecretstore/mcp@1.0.0",
     ["@agentsecretstore/mcp/bin/run.js"], {"ASS_AGENT_KEY": "bench"},
     {"name": "delete_secret",
      "arguments": {"namespace": "bench", "key": "k"}}),
    ("everything", "server-everything 2026.8.31",
     "@modelcontextprotocol/server-everything@2026.8.31",
     ["@modelcontextprotocol/server-everything/dist/index.js", "stdio"], {},
     {"name": "echo", "arguments": {"message": "bench"}}),
]


class Skip(Exception):
    """A section or a row that cannot run here; the message says why."""


# ---------------------------------------------------------------- output

def fmt_t(us):
    """A duration given in microseconds, in a readable unit."""
    if us is None:
        return "–"
    if us < 1000:
        return f"{us:.1f} µs" if us < 100 else f"{us:.0f} µs"
    if us < 1e6:
        ms = us / 1000
        return f"{ms:.2f} ms" if ms < 10 else f"{ms:.1f} ms" if ms < 100 \
            else f"{ms:.0f} ms"
    return f"{us / 1e6:.2f} s"


def fmt_kb(kb):
    if kb is None:
        return "–"
    if kb < 1024:
        return f"{kb:.0f} KiB"
    if kb < 1024 * 1024:
        return f"{kb / 1024:.1f} MiB"
    return f"{kb / 1024 / 1024:.2f} GiB"


def fmt_bytes(b):
    return fmt_kb(b / 1024) if b is not None else "–"


def fmt_ratio(x):
    if x is None:
        return "–"
    if x >= 100:
        return f"{x:.0f}×"
    if x >= 10:
        return f"{x:.1f}×"
    return f"{x:.2f}×"


def fmt_rate(per_s):
    if per_s is None:
        return "–"
    if per_s >= 1e4:
        return f"{per_s / 1000:.1f} k/s"
    return f"{per_s:.0f} /s"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def table(headers, rows, left=1, indent="  "):
    """Columns before `left` are text (left-aligned), the rest figures."""
    rows = [[("–" if c is None else str(c)) for c in r] for r in rows]
    w = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
         for i, h in enumerate(headers)]

    def cells(r):
        return (indent + "  ".join(c.ljust(w[i]) if i < left
                                   else c.rjust(w[i])
                                   for i, c in enumerate(r))).rstrip()
    print(cells(headers))
    print(indent + "  ".join("-" * x for x in w))
    for r in rows:
        print(cells(r))
    print(flush=True)


def section(title):
    print(f"\n== {title}\n", flush=True)


def note(text):
    print(f"  {text}", flush=True)


# ---------------------------------------------------------------- context

class Bench:
    def __init__(self, args):
        self.quick = args.quick
        self.bin = os.path.abspath(args.bin)
        self.tools = os.path.abspath(args.tools)
        self.tmp = os.path.abspath(args.tmp)
        self.results = {"quick": self.quick, "sections": {}}
        self.goals = []  # (section, goal, target, measured, met or None)
        self.homes = []
        self.npm_dir = None
        self.npm_why = None

    def n(self, full, quick):
        return quick if self.quick else full

    def tool(self, name):
        p = os.path.join(self.tools, name)
        return p if os.access(p, os.X_OK) else None

    def goal(self, sec, what, target, measured, met):
        self.goals.append((sec, what, target, measured, met))

    def cleanup(self):
        for h in self.homes:
            h.close()


def run_json(argv, env=None, timeout=600, input=None, cpu=None):
    """Run a helper that prints one JSON object; its dict, or Skip.  With
    cpu, the helper (and what it spawns) runs on that CPU only."""
    pre = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None \
        else None
    try:
        r = subprocess.run(argv, env=env, input=input, capture_output=True,
                           timeout=timeout, preexec_fn=pre)
    except subprocess.TimeoutExpired:
        raise Skip(f"{os.path.basename(argv[0])} timed out after "
                   f"{timeout} s")
    lines = [x for x in r.stdout.decode(errors="replace").splitlines()
             if x.startswith("{")]
    if not lines:
        err = r.stderr.decode(errors="replace").strip().splitlines()
        raise Skip(f"{os.path.basename(argv[0])} failed (exit "
                   f"{r.returncode}): {err[-1] if err else 'no output'}")
    d = json.loads(lines[-1])
    if "error" in d:
        raise Skip(f"{os.path.basename(argv[0])}: {d['error']}")
    return d


def run_json_sampling(argv, pid, timeout=3600, every=0.2):
    """run_json, reading the VmRSS of process `pid` every `every` s while
    it runs: (dict, [(seconds since start, KiB)])."""
    samples = []
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as out:
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL)
        while p.poll() is None:
            if time.monotonic() - t0 > timeout:
                p.kill()
                p.wait()
                raise Skip(f"{os.path.basename(argv[0])} timed out")
            rss = proc_status(pid).get("VmRSS")
            if rss is not None:
                samples.append((time.monotonic() - t0, rss))
            time.sleep(every)
        out.seek(0)
        lines = [x for x in out.read().decode(errors="replace").splitlines()
                 if x.startswith("{")]
    if not lines:
        raise Skip(f"{os.path.basename(argv[0])} failed (exit "
                   f"{p.returncode})")
    d = json.loads(lines[-1])
    if "error" in d:
        raise Skip(f"{os.path.basename(argv[0])}: {d['error']}")
    return d, samples


def quiet_cpu():
    """The CPU that was least busy over the last 0.3 s (/proc/stat)."""
    def sample():
        busy = {}
        with open("/proc/stat") as f:
            for line in f:
                m = re.match(r"cpu(\d+) (.*)", line)
                if m:
                    v = [int(x) for x in m.group(2).split()]
                    busy[int(m.group(1))] = (sum(v) - v[3] - v[4], sum(v))
        return busy
    try:
        allowed = os.sched_getaffinity(0)
        a = sample()
        time.sleep(0.3)
        z = sample()
        load = {c: (z[c][0] - a[c][0]) / max(1, z[c][1] - a[c][1])
                for c in z if c in a and c in allowed}
        return min(load, key=load.get) if load else None
    except (OSError, AttributeError, KeyError):
        return None


class Pinned:
    """Processes held on one CPU for a with-block, then let go: the two
    sides of a ratio (idw and its floor) then meet the same neighbours."""

    def __init__(self, cpu, *pids):
        self.cpu, self.pids = cpu, [p for p in pids if p]

    def __enter__(self):
        self.saved = {}
        if self.cpu is None:
            return self
        for p in self.pids:
            try:
                self.saved[p] = os.sched_getaffinity(p)
                os.sched_setaffinity(p, {self.cpu})
            except OSError:
                pass
        return self

    def __exit__(self, *a):
        for p, mask in self.saved.items():
            try:
                os.sched_setaffinity(p, mask)
            except OSError:
                pass


def proc_status(pid):
    """VmRSS, VmHWM, VmLck of a process, in KiB."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "VmLck"):
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def cpu_us(pid):
    """Time the process has spent on a CPU, in µs (/proc/PID/schedstat)."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0]) / 1000
    except (OSError, ValueError, IndexError):
        return None


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


class Home:
    """A throwaway IDW_HOME with its own socket; agents started as our
    children so their pid and /proc entries are ours to read."""

    def __init__(self, b, name, extra_env=None):
        self.b = b
        self.dir = os.path.join(b.tmp, name)
        os.makedirs(self.dir, mode=0o700)
        self.home = os.path.join(self.dir, "home")
        self.sock = os.path.join(self.dir, "agent.sock")
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.dir,
            "IDW_HOME": self.home,
            "IDW_SOCKET": self.sock,
            "LANG": "C.UTF-8",
        }
        self.env.update(extra_env or {})
        self.proc = None
        self.stderr = None
        b.homes.append(self)

    def exe(self, name):
        return os.path.join(self.b.bin, name)

    def idw(self, *args, input=None, env=None, timeout=120):
        e = dict(self.env)
        e.update(env or {})
        r = subprocess.run([self.exe("idw"), *args], env=e,
                           input=input.encode() if isinstance(input, str)
                           else input, capture_output=True, timeout=timeout,
                           stdin=None if input is not None
                           else subprocess.DEVNULL)
        return r

    def must(self, *args, **kw):
        r = self.idw(*args, **kw)
        if r.returncode != 0:
            raise Skip(f"idw {' '.join(args[:3])} failed: "
                       f"{r.stderr.decode(errors='replace').strip()}")
        return r.stdout.decode().strip()

    def init(self, kdf="interactive"):
        """idw init (the CLI starts an agent), then stop that agent."""
        self.must("init", "--kdf", kdf, env={"IDW_PASSPHRASE": PASS},
                  timeout=300)
        self.idw("agent", "stop")
        self.wait_gone()

    def wait_gone(self, timeout=30):
        """Until no agent holds this home: the socket is gone and the
        home's agentd.lock is free (it is released last)."""
        end = time.monotonic() + timeout
        while os.path.exists(self.sock) and time.monotonic() < end:
            time.sleep(0.005)
        lock = os.path.join(self.home, "agentd.lock")
        while time.monotonic() < end:
            try:
                fd = os.open(lock, os.O_RDWR | os.O_CLOEXEC)
            except OSError:
                return
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError:
                time.sleep(0.005)
            finally:
                os.close(fd)

    def start(self, env=None, drop=(), timeout=300):
        """Start idw-agentd; returns (ms spawn → ready, status lines)."""
        e = dict(self.env)
        e.update(env or {})
        for k in drop:
            e.pop(k, None)
        r, w = os.pipe()
        self.stderr = open(os.path.join(self.dir, "agentd.log"), "ab")
        t0 = time.perf_counter()
        p = subprocess.Popen([self.exe("idw-agentd"), f"--status-fd={w}"],
                             env=e, pass_fds=(w,), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=self.stderr)
        os.close(w)
        out = b""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                out += b"\n(no answer on the status pipe in time)"
                break
            chunk = os.read(r, 4096)
            if not chunk:
                break
            out += chunk
        ms = (time.perf_counter() - t0) * 1000
        os.close(r)
        self.proc = p
        lines = out.decode(errors="replace").splitlines()
        if "ok" not in lines:
            self.stop()
            raise Skip("the agent did not start: " + "; ".join(lines))
        return ms, lines

    def stop(self):
        p, self.proc = self.proc, None
        if p is None:
            return
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self.stderr:
            self.stderr.close()
            self.stderr = None
        self.wait_gone(5)

    def conn(self):
        return Conn(self.sock, timeout=600)

    def call(self, body, secret=None):
        c = self.conn()
        try:
            return c.call(body, secret)
        finally:
            c.close()

    def mem(self):
        return proc_status(self.proc.pid) if self.proc else {}

    def cpu(self):
        return cpu_us(self.proc.pid) if self.proc else None

    def rt(self, body, n, secret=None, floor=None, cpu=None):
        """wire_client rt against this agent, with the agent's CPU time
        per call (the 20 untimed warm-up calls and the hello included).
        With floor (an echo server's socket) the calls alternate between
        the two and the answer has the floor's figures under "floor"."""
        socks = self.sock + ("," + floor if floor else "")
        argv = [self.b.tool("wire_client"), "rt", socks, str(n),
                json.dumps(body, separators=(",", ":"))]
        if secret is not None:
            argv.append(secret)
        c0 = self.cpu()
        d = run_json(argv, cpu=cpu)
        c1 = self.cpu()
        d["agent_cpu_us"] = (c1 - c0) / (n + 21) if c0 is not None and \
            c1 is not None else None
        return d

    def audit_head(self):
        """The sequence number of the newest audit entry."""
        rep = self.call({"verb": "audit", "limit": 1})
        if not rep.get("ok"):
            raise Skip(f"audit verb refused: {rep.get('message')}")
        e = rep.get("entries") or []
        return e[0]["seq"] if e else 0

    def audit_since(self, head, purpose_prefix):
        """Entries newer than seq `head`: (all the verb shows, those of an
        allowed access whose purpose starts with purpose_prefix, whether
        the walk reached `head`: an agent whose audit verb does not page
        stops at one page)."""
        c = self.conn()
        total = ours = 0
        cursor = None
        try:
            while True:
                body = {"verb": "audit", "limit": 500}
                if cursor:
                    body["cursor"] = cursor
                rep = c.call(body)
                if not rep.get("ok"):
                    raise Skip(f"audit verb refused: {rep.get('message')}")
                for e in rep.get("entries") or []:
                    if e["seq"] <= head:
                        return total, ours, True
                    total += 1
                    if e.get("action") == "access" and \
                            e.get("result") == "allowed" and \
                            (e.get("purpose") or "").startswith(
                                purpose_prefix):
                        ours += 1
                cursor = rep.get("next_cursor")
                if not cursor:
                    return total, ours, head == 0
        finally:
            c.close()

    def create_raw(self, name, value, **fields):
        body = {"verb": "create", "name": name, "credential_type": "api-key",
                "human_owner": "bench", "platforms": ["openai"]}
        body.update(fields)
        rep = self.call(body, value.encode())
        if not rep.get("ok"):
            raise Skip(f"create refused: {rep.get('message')}")
        return rep["id"]

    def close(self):
        self.stop()
        # An agent some CLI call started is not our child: ask it to go.
        if os.path.exists(self.sock):
            try:
                self.call({"verb": "stop"})
            except (OSError, ConnectionError):
                pass
            self.wait_gone(5)


# ---------------------------------------------------------------- npm peers

def install_peers(b):
    """Pinned Node MCP servers into a temporary prefix; (dir, None) or
    (None, why)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return None, "node or npm is not installed"
    prefix = os.path.join(b.tmp, "npm")
    os.makedirs(prefix)
    pkgs = [p[2] for p in NPM_PEERS]
    # --quick (CI) keeps its two-minute budget: a slow registry skips the
    # peer figures, with this reason printed, rather than the run.
    limit = b.n(150, 60)
    try:
        r = subprocess.run(["npm", "install", "--prefix", prefix, "--no-audit",
                            "--no-fund", "--no-save", "--loglevel=error",
                            "--fetch-retries=1",
                            f"--fetch-timeout={b.n(30000, 20000)}",
                            *pkgs], capture_output=True, timeout=limit,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, (f"npm install took over {limit} s (is the registry "
                      "reachable?)")
    if r.returncode != 0:
        err = [x.replace("npm error ", "").strip()
               for x in r.stderr.decode(errors="replace").splitlines()
               if x.startswith("npm error") and "complete log" not in x
               and x.strip() != "npm error"]
        return None, ("npm install failed (registry unreachable?): " +
                      ("; ".join(err[:2]) if err else f"exit {r.returncode}"))
    return os.path.join(prefix, "node_modules"), None


# ---------------------------------------------------------------- 1. MCP

def sec_mcp(b):
    section("1. MCP server over stdio: idw-mcp beside a C floor and Node "
            "peers")
    drive = b.tool("mcp_drive")
    if drive is None:
        raise Skip("mcp_drive was not compiled")
    res = b.results["sections"]["mcp"] = {}
    h = Home(b, "mcp")
    h.init()
    pid = h.must("create", "--name", "bench", "--type", "api-key",
                 "--platform", "openai",
                 input="sk-bench-0123456789abcdef0123456789abcdef",
                 env={"IDW_PASSPHRASE": PASS})
    h.idw("agent", "stop")
    h.wait_gone()
    h.start(env={"IDW_PASSPHRASE": PASS})
    idw_env = dict(h.env)  # no unlock secret: the agent is already up

    servers = []  # (key, label, argv, env, call params, ready_line)
    get_call = {"name": "get_credential",
                "arguments": {"passport_id": pid, "purpose": "benchmark"}}
    servers.append(("idw", "idw-mcp", [h.exe("idw-mcp")], idw_env, get_call))
    echo, echo_path = None, None
    if b.tool("mcp_floor"):
        servers.append(("floor", "C floor", [b.tool("mcp_floor")], {},
                        get_call))
        # The floor again, with one hop per call to the echo floor: what
        # keeping the secret in another process costs at the least.
        echo, echo_path = start_echo(b)
        if echo:
            servers.append(("hop", "C floor + hop",
                            [b.tool("mcp_floor"), echo_path], {}, get_call))
    if b.npm_dir:
        for key, label, _, rel, env, call in NPM_PEERS:
            e = dict(os.environ)
            e.update(env)
            servers.append((key, label,
                            ["node", os.path.join(b.npm_dir, rel[0]),
                             *rel[1:]], e, call))
    else:
        note(f"Node peers skipped: {b.npm_why}")

    n_c, n_node = b.n(30, 10), b.n(10, 3)
    cold = {s[0]: [] for s in servers}
    rss = {s[0]: [] for s in servers}
    empty = b.tool("empty_libs")
    cold["empty"], rss["empty"] = [], []
    # Interleaved, so drift on a shared machine hits every server alike.
    for i in range(n_c):
        for key, _, argv, env, _ in servers:
            if key == "hop" or (key not in ("idw", "floor")
                                and i >= n_node):
                continue
            d = run_json([drive, "cold", "--", *argv], env=env, timeout=120)
            cold[key].append(d["start_us"])
            rss[key].append(d["rss_kb"])
        if empty:
            d = run_json([drive, "cold", "--ready-line", "--", empty])
            cold["empty"].append(d["start_us"])
            rss["empty"].append(d["rss_kb"])

    n_warm = b.n(2000, 200)
    warm = {}
    # idw-mcp and the C floor in one run, call for call in turn; each Node
    # peer in a session of its own (its own tool, its own environment).
    pair = [s for s in servers if s[0] in ("idw", "floor", "hop")]
    argv = [drive, "warm", str(n_warm), json.dumps(get_call), "--"]
    for i, srv in enumerate(pair):
        argv += (["---"] if i else []) + srv[2]
    cpu = quiet_cpu()
    c0 = h.cpu()
    with Pinned(cpu, h.proc.pid, echo.pid if echo else None):
        d = run_json(argv, env=idw_env, timeout=900, cpu=cpu)
    if echo:
        echo.stdin.close()
        echo.wait(10)
    # n + 1 get_credential calls reached the agent (pings and lists do not)
    res["agent_cpu_us_per_call"] = (h.cpu() - c0) / (n_warm + 1) \
        if c0 is not None else None
    for srv, r in zip(pair, d["servers"]):
        warm[srv[0]] = r
    for key, _, argv, env, call in servers:
        if key in warm:
            continue
        warm[key] = run_json([drive, "warm", str(n_warm), json.dumps(call),
                              "--", *argv], env=env,
                             timeout=900)["servers"][0]
    agent_after = h.mem()
    res["syscalls"] = mcp_syscalls(b, drive, h, get_call, idw_env)
    h.stop()

    def col(key, f):
        return f(key) if key in warm else None

    cs = {k: median(v) for k, v in cold.items() if v}
    rs = {k: median(v) for k, v in rss.items() if v}
    peers = [s for s in servers if s[0] not in ("idw", "floor", "hop")]
    headers = ["", "idw-mcp", "C floor", "idw÷floor"]
    for s in peers:
        headers += [s[1], "÷idw"]

    def row(name, f, fmt, lower_is_better=True):
        r = [name, fmt(f("idw")), fmt(f("floor")),
             fmt_ratio(ratio(f("idw"), f("floor")))]
        for s in peers:
            v = f(s[0])
            r += [fmt(v), fmt_ratio(ratio(v, f("idw")) if lower_is_better
                                    else ratio(f("idw"), v))]
        return r

    rows = [
        row(f"cold start → initialize answer (median of {n_c}/{n_node})",
            lambda k: cs.get(k), fmt_t),
        row("first tools/list", lambda k: col(k, lambda k: warm[k]
                                                ["list1_us"]), fmt_t),
        row("second tools/list", lambda k: col(k, lambda k: warm[k]
                                                 ["list2_us"]), fmt_t),
        row("first tools/call (idw: connects to the agent)",
            lambda k: col(k, lambda k: warm[k]["call1_us"]), fmt_t),
        row("RSS after initialize (median)", lambda k: rs.get(k), fmt_kb),
        row(f"RSS after {n_warm} calls",
            lambda k: col(k, lambda k: warm[k]["rss_end_kb"]), fmt_kb),
        row("warm ping, median", lambda k: col(k, lambda k: warm[k]["ping"]
                                                ["median"]), fmt_t),
        row("warm ping, p99", lambda k: col(k, lambda k: warm[k]["ping"]
                                             ["p99"]), fmt_t),
        row("warm tools/call, median", lambda k: col(
            k, lambda k: warm[k]["call"]["median"]), fmt_t),
        row("warm tools/call, p99", lambda k: col(
            k, lambda k: warm[k]["call"]["p99"]), fmt_t),
        row("tools/call per second (1 ÷ mean latency)", lambda k: col(
            k, lambda k: warm[k]["call"]["per_s"]), fmt_rate,
            lower_is_better=False),
    ]
    table(headers, rows)
    note("tools/call is get_credential for idw-mcp and the floor; the Node "
         "peers answer a tool")
    note("that stays local (agentsecretstore: delete_secret, which asks for "
         "human authorisation;")
    note("server-everything: echo).  ÷idw: how many times the peer's figure "
         "is idw's (higher = idw")
    note("better; for calls per second, idw's over the peer's).  Warm "
         "calls to idw-mcp and the floor")
    note("alternate call for call in one run, driver, both servers and the "
         "agent held on one CPU")
    note(f"(cpu{cpu}, the quietest at the start), so both meet the same "
         "neighbours; the Node peers, which" if cpu is not None else
         "so both meet the machine in the same state; the Node peers, which")
    note("run helper threads, are not held.")
    if "hop" in warm:
        hop = warm["hop"]["call"]["median"]
        note(f"C floor + hop: the floor sending each tools/call as one "
             f"frame to the echo floor and")
        note(f"waiting for it (as idw-mcp waits for the agent), in the same "
             f"alternation: {fmt_t(hop)} median;")
        note(f"idw-mcp's warm tools/call is "
             f"{fmt_ratio(ratio(warm['idw']['call']['median'], hop))} of "
             f"it (what idw adds: decision, audit entry, JSON).")
    errs = {k: warm[k]["call_errors"] for k in warm
            if k in ("idw", "floor", "hop")}
    if errs.get("idw"):
        note(f"idw-mcp answered {errs['idw']} of the get_credential calls "
             "with an error")
    if empty:
        note(f"RSS floor: an empty C program linking libsodium, cJSON and "
             f"libseccomp, after one 64 KiB sodium_malloc: "
             f"{fmt_kb(rs.get('empty'))}.")
    if "idw" in warm and res.get("agent_cpu_us_per_call") is not None:
        w = warm["idw"]
        note(f"where a warm get_credential goes: idw-mcp CPU "
             f"{fmt_t(w.get('call_cpu_us'))}, agent CPU "
             f"{fmt_t(res['agent_cpu_us_per_call'])}, the rest of the "
             f"{fmt_t(w['call']['median'])} median")
        note("is waiting: the audit entry's fsync before the value leaves, "
             "and four context switches.")
    sc = res.get("syscalls", {})
    if sc.get("per_call"):
        note(f"idw-mcp system calls per warm get_credential (and its ping), "
             f"strace -c over {sc['calls']} and")
        note(f"{2 * sc['calls']} calls, the difference: " + ", ".join(
            f"{c} {v:.1f}" for c, v in sorted(sc["per_call"].items(),
                                              key=lambda x: -x[1])))
        note(f"memory calls ({'/'.join(MEM_CALLS)}) per call: "
             f"{sc['memory_calls_per_call']:.2f} (each sodium_malloc would "
             "map, lock and guard)")
    elif sc.get("skip"):
        note(f"idw-mcp system calls not counted: {sc['skip']}")
    if "idw" in warm:
        note(f"idw-mcp VmLck after the calls: "
             f"{fmt_kb(warm['idw'].get('vmlck_end_kb'))}; agent during the "
             f"section: RSS {fmt_kb(agent_after.get('VmRSS'))}, "
             f"VmLck {fmt_kb(agent_after.get('VmLck'))}.")
    print()

    res.update({"cold_us": cs, "rss_kb": rs, "warm": warm,
                "cold_runs": {"c": n_c, "node": n_node}, "warm_calls": n_warm})
    # Goals (issue 9).
    idw_cold = cs.get("idw")
    g = []
    g.append(("cold start to initialize answer", "≤ 5 ms", fmt_t(idw_cold),
              idw_cold is not None and idw_cold <= 5000))
    node_best = min((cs[s[0]] for s in peers if s[0] in cs), default=None)
    r = ratio(node_best, idw_cold)
    g.append(("cold start vs the fastest Node peer", "≥ 50× faster",
              fmt_ratio(r) if r else "no peer",
              None if r is None else r >= 50))
    d = (rs.get("idw") - rs.get("empty")) if rs.get("idw") and \
        rs.get("empty") else None
    g.append(("RSS after initialize vs empty C + same libs", "≤ +512 KiB",
              (("+" if d >= 0 else "") + fmt_kb(d)) if d is not None
              else "–", None if d is None else d <= 512))
    wm = warm.get("idw", {}).get("call", {}).get("median")
    g.append(("warm get_credential, median end to end", "≤ 50 µs", fmt_t(wm),
              None if wm is None else wm <= 50))
    goal_table(b, "MCP", g)


MEM_CALLS = ("mmap", "munmap", "mlock", "munlock", "mprotect", "madvise")


def strace_counts(path):
    """syscall -> calls, from an strace -c summary."""
    counts = {}
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) >= 5 and w[-1].isidentifier() and w[3].isdigit() \
                    and w[-1] != "total":
                counts[w[-1]] = int(w[3])
    return counts


def mcp_syscalls(b, drive, h, get_call, env):
    """strace -c of idw-mcp over a warm session of n and of 2n
    get_credential calls: the difference is what n warm calls make, start
    excluded.  Memory calls (a sodium_malloc maps, locks and guards)
    should be 0 per call."""
    if shutil.which("strace") is None:
        return {"skip": "strace is not installed"}
    n = b.n(1000, 200)
    got = []
    for k in (n, 2 * n):
        out = os.path.join(b.tmp, f"strace-mcp-{k}.txt")
        run_json([drive, "warm", str(k), json.dumps(get_call), "--",
                  "strace", "-f", "-c", "-o", out, h.exe("idw-mcp")],
                 env=env, timeout=900)
        got.append(strace_counts(out))
    # A ping per call goes with each tools/call in a warm session.
    per = {c: (got[1].get(c, 0) - got[0].get(c, 0)) / n
           for c in set(got[0]) | set(got[1])}
    per = {c: v for c, v in per.items() if v > 0.001}
    mem = sum(per.get(c, 0) for c in MEM_CALLS)
    return {"per_call": per, "memory_calls_per_call": mem, "calls": n}


def goal_table(b, sec, goals):
    rows = []
    for what, target, measured, met in goals:
        b.goal(sec, what, target, measured, met)
        rows.append([what, target, measured,
                     "met" if met else "n/a" if met is None else "NOT MET"])
    table(["goal", "target", "measured", ""], rows)


# ---------------------------------------------------------------- 2. agent

def start_echo(b):
    exe = b.tool("echo_floor")
    if exe is None:
        return None, None
    path = os.path.join(b.tmp, "echo.sock")
    p = subprocess.Popen([exe, path], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    if p.stdout.readline().strip() != b"ready":
        p.kill()
        p.wait()
        return None, None
    return p, path


def sec_agent(b):
    section("2. Agent over its Unix socket: round trips and 64 concurrent "
            "clients")
    wc = b.tool("wire_client")
    if wc is None:
        raise Skip("wire_client was not compiled")
    res = b.results["sections"]["agent"] = {}
    h = Home(b, "agent")
    h.init()
    h.start(env={"IDW_PASSPHRASE": PASS})
    ids = [h.create_raw(f"load-{i}", f"sk-load-{i:04d}-0123456789abcdef",
                        platforms=[f"plat{i % 4}"]) for i in range(16)]
    echo, echo_path = start_echo(b)
    echo_env = dict(os.environ, IDW_BENCH_ECHO="1")
    n_rt = b.n(20000, 2000)
    cpu = quiet_cpu()
    n_get = b.n(5000, 500)
    reqs = [
        ("show", {"verb": "show", "id": ids[0]}, n_rt),
        ("check_policy", {"verb": "check_policy", "id": ids[0]}, n_rt),
        ("list (limit 10)", {"verb": "list", "limit": 10}, n_rt // 4),
        ("status", {"verb": "status"}, n_rt // 4),
        ("get (audited)", {"verb": "get", "id": ids[0],
                           "purpose": "benchmark"}, n_get),
    ]
    rows = []
    rt = {}
    floor = {}
    for name, body, n in reqs:
        with Pinned(cpu, h.proc.pid, echo.pid if echo else None):
            d = h.rt(body, n, floor=echo_path, cpu=cpu)
        rt[name] = d
        f = d.get("floor")
        if f:
            floor[name] = f
        rows.append([name, n, fmt_t(d["rt"]["median"]), fmt_t(d["rt"]["p99"]),
                     fmt_rate(d["per_s"]), fmt_t(d["agent_cpu_us"]),
                     fmt_t(f["rt"]["median"]) if f else None,
                     fmt_ratio(ratio(d["rt"]["median"], f["rt"]["median"]))
                     if f else None, d["errors"]])
    table(["request (one connection)", "calls", "median", "p99", "rate",
           "agent CPU/call", "echo floor", "÷floor", "errors"], rows)
    note("echo floor: a single-threaded poll loop that writes each frame "
         "back, driven by the same C client")
    note("with the same request bytes, call for call in turn with the "
         "agent; client, agent and floor")
    note(f"held on one CPU (cpu{cpu}, the quietest at the start) for these "
         "round trips.  rate: 1 ÷ mean latency." if cpu is not None else
         "free to run on any CPU.  rate: 1 ÷ mean latency.")
    note("agent CPU/call: the agent's own CPU time (schedstat) over the "
         "calls; what the median has")
    note("beyond it is waiting (fsync) and the two context switches.")
    print()

    # Concurrency: 64 clients, mixed calls; RSS across a warm-up and the run.
    clients = 64
    calls = b.n(10000, 500)
    mix = "per 10 calls: 4 get, 3 show, 2 check_policy, 1 list (limit 10)"
    idlist = ",".join(ids)
    mem0 = h.mem()
    warmup = run_json([wc, "load", h.sock, str(clients),
                       str(max(calls // 10, 10)), idlist], timeout=1800)
    mem1 = h.mem()
    head0 = h.audit_head()
    load, samples = run_json_sampling(
        [wc, "load", h.sock, str(clients), str(calls), idlist], h.proc.pid,
        timeout=3600)
    mem2 = h.mem()
    # RSS halfway through the run (the last sample before half the time)
    half = samples[-1][0] / 2 if samples else 0
    mid = max((x for x in samples if x[0] <= half), default=None,
              key=lambda x: x[0])
    head1 = h.audit_head()
    shown, audited, complete = h.audit_since(head0, "bench load")
    if not complete:
        audited = shown = head1 - head0  # counted by sequence numbers
    fl = None
    if echo:
        fl = run_json([wc, "load", echo_path, str(clients), str(calls),
                       idlist], env=echo_env, timeout=1800)
        echo.stdin.close()
        echo.wait(10)
    rows = [["idw-agentd", f"{clients} × {calls}", load["completed"],
             fmt_rate(load["per_s"]), fmt_t(load["lat"]["median"]),
             fmt_t(load["lat"]["p99"]), fmt_t(load["lat"]["max"]),
             load["errors"], f"{audited} / {load['gets_ok']}"]]
    if fl:
        rows.append(["echo floor", f"{clients} × {calls}", fl["completed"],
                     fmt_rate(fl["per_s"]), fmt_t(fl["lat"]["median"]),
                     fmt_t(fl["lat"]["p99"]), fmt_t(fl["lat"]["max"]),
                     fl["errors"], "–"])
    table(["load (" + mix.split(":")[0] + ")", "clients × calls", "done",
           "throughput", "median", "p99", "max", "errors",
           "audit entries / gets"], rows)
    note(f"mix {mix}.")
    if complete:
        note("audit entries / gets: entries of the run that record an "
             "allowed access with the run's")
        note("purpose, read back through the audit verb, against the gets "
             f"answered.  In all, the log grew")
        note(f"by {head1 - head0} sequence numbers; the audit verb showed "
             f"{shown} entries ({shown - audited} not gets: show,")
        note("check_policy and list leave none; bookkeeping entries such as "
             "checkpoints may).")
    else:
        note("audit entries / gets: the growth of the log's sequence "
             "numbers over the run (this agent's")
        note("audit verb returns one page, so entries are not read back); "
             "show, check_policy and list")
        note("write no entry, so it must equal the gets answered.")
    if fl:
        note(f"throughput ÷ echo floor: "
             f"{fmt_ratio(ratio(load['per_s'], fl['per_s']))}")
    print()
    growth = (mem2.get("VmRSS", 0) - mid[1]) if mid and mem2 else None
    res.update({"rt": rt, "rt_floor": floor, "load": load, "load_floor": fl,
                "audit_entries": audited, "audit_seq_delta": head1 - head0,
                "audit_shown": shown, "mem_idle": mem0,
                "rss_mid_kb": mid[1] if mid else None,
                "rss_samples": samples,
                "mem_after_warmup": mem1, "mem_after_load": mem2,
                "warmup": warmup, "rss_growth_kb": growth,
                "load_calls": clients * calls})
    h.stop()

    g = []
    s_med = rt["show"]["rt"]["median"]
    f_med = floor["show"]["rt"]["median"] if "show" in floor else None
    r = ratio(s_med, f_med)
    g.append(("request round trip (show) vs echo floor", "≤ 3×",
              fmt_ratio(r) if r else "no floor",
              None if r is None else r <= 3))
    g.append((f"{clients} clients × {calls} mixed calls: errors", "0",
              str(load["errors"]), load["errors"] == 0))
    g.append(("audit entries = audited calls (gets)", f"{load['gets_ok']}",
              str(audited), audited == load["gets_ok"]))
    goal_table(b, "agent", g)


# ---------------------------------------------------------------- 3. unlock

def time_starts(h, n, env, drop, expect):
    """n agent starts from the given source; ms each, and the source the
    agent reported."""
    times, seen = [], set()
    for _ in range(n):
        ms, _ = h.start(env=env, drop=drop)
        st = h.call({"verb": "status"})
        seen.add(st.get("unlock_source"))
        h.stop()
        times.append(ms)
    if seen != {expect}:
        raise Skip(f"expected unlock by {expect}, the agent reported "
                   f"{', '.join(map(str, seen))}")
    return times


def time_cmd(argv, n, env=None):
    """ms per run of a short command (spawn to exit), median of n."""
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = subprocess.run(argv, env=env, capture_output=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        ts.append((time.perf_counter() - t0) * 1000)
        if r.returncode != 0:
            raise Skip(f"{os.path.basename(argv[0])} failed: "
                       f"{r.stderr.decode(errors='replace').strip()}")
    return ts


def keychain_inner(args):
    """Runs inside tests/lib/keyring-session.sh: login, then time agent
    starts by keychain beside secret-tool lookup of the same item."""
    class A:
        quick = args.quick
        bin = args.bin
        tools = args.tools
    tmp = tempfile.mkdtemp(prefix="idw-bench-kc-")
    A.tmp = tmp
    b = Bench(A)
    out = {}
    try:
        bus = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
        if not bus:
            raise Skip("no session bus inside the keyring session")
        h = Home(b, "kc", {"DBUS_SESSION_BUS_ADDRESS": bus})
        h.init()
        h.start(env={"IDW_PASSPHRASE": PASS})
        r = h.idw("auth", "login", "--passphrase-stdin", input=PASS + "\n")
        if r.returncode != 0:
            raise Skip("idw auth login failed: " +
                       r.stderr.decode(errors="replace").strip())
        vid = h.call({"verb": "status"})["vault_id"]
        h.stop()
        # In turn: one agent start, two secret-tool lookups, two helper
        # lookups, so all three meet the keyring in the same state.
        env = dict(os.environ)
        helper = os.path.join(args.bin, "idw-keychain-helper")
        tool = shutil.which("secret-tool")
        if tool is None:
            out["secret_tool_why"] = "secret-tool is not installed"
        kc, st, hp = [], [], []
        for _ in range(args.n):
            kc += time_starts(h, 1, {}, ("IDW_PASSPHRASE",), "keychain")
            if tool:
                st += time_cmd([tool, "lookup", "vault_id", vid], 2, env)
            hp += time_cmd([helper, "lookup", vid], 2,
                           {"DBUS_SESSION_BUS_ADDRESS": bus})
        out["keychain_ms"] = kc
        if st:
            out["secret_tool_ms"] = st
        out["helper_ms"] = hp
    except Skip as e:
        out["skip"] = str(e)
    finally:
        b.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out))


def sec_unlock(b):
    section("3. Unlock: agent start → ready, per source")
    res = b.results["sections"]["unlock"] = {}
    kdf = b.tool("kdf_floor")
    rows = []
    floors = {}
    levels = ["interactive", "moderate"] + ([] if b.quick else ["sensitive"])
    res["kdf_floor_ms"] = floors

    # Session token and the interactive passphrase share one vault.
    h = Home(b, "unlock-interactive")
    h.init("interactive")
    h.start(env={"IDW_PASSPHRASE": PASS})
    r = h.idw("auth", "token", "create", "--label", "bench", "--ttl", "1h",
              "--passphrase-stdin", input=PASS + "\n")
    token = r.stdout.decode().strip() if r.returncode == 0 else None
    h.stop()
    n = b.n(10, 5)
    if token:
        t = time_starts(h, n, {"IDW_SESSION_TOKEN": token},
                        ("IDW_PASSPHRASE",), "session-token")
        res["session_token_ms"] = t
        rows.append(["session token", "IDW_SESSION_TOKEN", len(t),
                     f"{median(t):.1f} ms", "–", "–"])
    else:
        rows.append(["session token", "skipped: token create failed: " +
                     r.stderr.decode(errors="replace").strip()[:60],
                     "", "", "", ""])

    # Keychain, inside a private keyring session.
    kc = run_keychain(b, n)
    res["keychain"] = kc
    st_med = median(kc.get("secret_tool_ms", []))
    if "keychain_ms" in kc:
        k_med = median(kc["keychain_ms"])
        rows.append(["keychain", "gnome-keyring (private session)",
                     len(kc["keychain_ms"]), f"{k_med:.1f} ms",
                     f"secret-tool lookup {st_med:.1f} ms" if st_med
                     else kc.get("secret_tool_why", "–"),
                     fmt_ratio(ratio(k_med, st_med))])
        hm = median(kc.get("helper_ms", []))
        if hm:
            rows.append(["  of which idw-keychain-helper", "lookup, alone",
                         len(kc["helper_ms"]), f"{hm:.1f} ms",
                         f"secret-tool lookup {st_med:.1f} ms" if st_med
                         else "–", fmt_ratio(ratio(hm, st_med))])
    else:
        rows.append(["keychain", "skipped: " + kc.get("skip", "?"), "", "",
                     "", ""])

    for lv in levels:
        nn = {"interactive": n, "moderate": b.n(3, 2), "sensitive": 2}[lv]
        if lv == "interactive":
            hh = h
        else:
            hh = Home(b, f"unlock-{lv}")
            hh.init(lv)
        # In turn: one agent start, one Argon2id alone at the same level.
        t, fl = [], []
        for _ in range(nn):
            t += time_starts(hh, 1, {"IDW_PASSPHRASE": PASS}, (), "env-var")
            if kdf:
                fl.append(run_json([kdf, lv, "1"], timeout=300)["median_ms"])
        res[f"passphrase_{lv}_ms"] = t
        f = floors[lv] = median(fl)
        rows.append([f"passphrase, --kdf {lv}", "IDW_PASSPHRASE", len(t),
                     f"{median(t):.1f} ms",
                     f"Argon2id alone {f:.1f} ms" if f else "–",
                     fmt_ratio(ratio(median(t), f))])
    if b.quick:
        rows.append(["passphrase, --kdf sensitive",
                     "skipped: --quick (5 s, 1 GiB a run)", "", "", "", ""])
    table(["source", "how", "runs", "start → ready", "beside", "ratio"],
          rows, left=2)
    note("start → ready: spawn of idw-agentd until it reports 'ok' on its "
         "status pipe (unlock,")
    note("compaction, socket, sandbox), a vault holding a few records.  "
         "The floors run in this")
    note("process tree too: secret-tool spawned the same way, Argon2id "
         "timed inside a C program;")
    note("each run of a source alternates with a run of its floor.")
    print()


def run_keychain(b, n):
    ks = os.path.join(REPO, "tests", "lib", "keyring-session.sh")
    if not os.path.exists(ks):
        return {"skip": "tests/lib/keyring-session.sh is missing"}
    for t in ("dbus-run-session", "gnome-keyring-daemon", "gdbus"):
        if shutil.which(t) is None:
            return {"skip": f"{t} is not installed (gnome-keyring, dbus)"}
    argv = ["sh", ks, sys.executable, os.path.abspath(__file__),
            "--keychain-inner", "--bin", b.bin, "--tools", b.tools,
            "--tmp", b.tmp, "--n", str(n)] + (["--quick"] if b.quick else [])
    try:
        r = subprocess.run(argv, capture_output=True, timeout=300,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"skip": "the keyring session timed out"}
    if r.returncode == 77:
        return {"skip": r.stdout.decode(errors="replace").strip()}
    lines = [x for x in r.stdout.decode(errors="replace").splitlines()
             if x.startswith("{")]
    if not lines:
        err = r.stderr.decode(errors="replace").strip().splitlines()
        return {"skip": "keyring session failed: " +
                (err[-1] if err else f"exit {r.returncode}")}
    return json.loads(lines[-1])


# ---------------------------------------------------------------- 4. scale

def file_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def sec_scale(b):
    section("4. Scale: passports created over the wire, one connection")
    wc = b.tool("wire_client")
    if wc is None:
        raise Skip("wire_client was not compiled")
    res = b.results["sections"]["scale"] = {"sizes": []}
    sizes = [1000, 10000] + ([] if b.quick else [100000])
    budget_s = b.n(900, 120)  # creating passports, all sizes together
    h = Home(b, "scale")
    h.init()
    h.start(env={"IDW_PASSPHRASE": PASS})
    have = 0
    spent = 0.0
    rate = None
    rows, rows2 = [], []
    for size in sizes:
        need = size - have
        if rate and need / rate > budget_s - spent:
            msg = (f"{size:,} skipped: creating {need:,} more passports at "
                   f"the {rate:.0f}/s measured last would take "
                   f"{need / rate:.0f} s, past this run's budget")
            note(msg)
            res["skipped"] = msg
            break
        d = run_json([wc, "create", h.sock, str(have), str(size)],
                     timeout=max(60, int(budget_s - spent) + 600))
        if d["errors"]:
            raise Skip(f"{d['errors']} creates refused at {size:,}")
        spent += d["wall_s"]
        rate = d["per_s"]
        have = size
        live = h.mem()
        # Restart: stop, start again (unlock, replay, compaction).
        restarts = []
        for _ in range(2 if size <= 10000 else 1):
            h.stop()
            restarts.append(h.start(env={"IDW_PASSPHRASE": PASS})[0])
        mem = h.mem()
        st = h.call({"verb": "status"})
        newest = h.create_raw(f"newest-{size}", "sk-newest", path="bench/n")
        reps = 20 if size <= 10000 else 5
        lst = run_json([wc, "list", h.sock, str(max(3, reps // 5)),
                        json.dumps({"verb": "list", "limit": 500})])
        flt = run_json([wc, "list", h.sock, str(reps),
                        json.dumps({"verb": "list", "platform": "needle"})])
        fst = run_json([wc, "list", h.sock, str(reps),
                        json.dumps({"verb": "list", "status": "revoked"})])
        mut = h.rt({"verb": "create", "name": "mutation",
                    "credential_type": "api-key", "human_owner": "bench",
                    "platforms": ["m"]}, 50, secret="sk-mutation")
        show = h.rt({"verb": "show", "id": newest}, 200)
        get = h.rt({"verb": "get", "id": newest, "purpose": "benchmark"}, 100)
        have += 1 + 20 + 50  # the newest, warm-up and timed creates
        vsz = file_size(os.path.join(h.home, "vault.idw"))
        asz = file_size(os.path.join(h.home, "audit.idw"))
        row = {"size": size, "create_bulk": d, "restart_ms": restarts,
               "list_all": lst, "filter_platform": flt,
               "filter_status": fst, "mutation": mut, "show": show,
               "get": get, "vault_bytes": vsz, "audit_bytes": asz,
               "mem_live": live, "mem_restarted": mem,
               "locked_bytes": st.get("locked_bytes"),
               "status_vmlck_kb": st.get("vmlck_kb"),
               "passports": st.get("passports")}
        res["sizes"].append(row)
        rows.append([f"{size:,}", fmt_rate(d["per_s"]),
                     fmt_t(median(restarts) * 1000),
                     f"{fmt_t(lst['walk']['median'])} ({lst['pages']} p)",
                     fmt_t(flt["walk"]["median"]),
                     fmt_t(fst["walk"]["median"]),
                     fmt_t(mut["rt"]["median"]), fmt_t(mut["agent_cpu_us"]),
                     fmt_t(show["rt"]["median"]), fmt_t(show["agent_cpu_us"]),
                     fmt_t(get["rt"]["median"]), fmt_t(get["agent_cpu_us"])])
        rows2.append([f"{size:,}", fmt_bytes(vsz),
                      f"{vsz / size:.0f} B" if vsz else "–", fmt_bytes(asz)])
    h.stop()
    if not rows:
        raise Skip("no size could be measured")
    table(["passports", "bulk create", "restart → ready", "list all",
           "filter platform", "filter status", "1 create", "CPU", "show",
           "CPU", "get", "CPU"], rows)
    note("bulk create: sequential creates on one connection (each one "
         "journal record, fsync'd).")
    note("restart → ready: agent stopped, started again with "
         "IDW_PASSPHRASE (--kdf interactive, so")
    note("Argon2id is about " + (
        f"{b.results['sections']['unlock']['kdf_floor_ms']['interactive']:.0f}"
        " ms of it)" if b.results["sections"].get("unlock", {})
        .get("kdf_floor_ms", {}).get("interactive") else "0.1–0.2 s of it)")
        + "; list all: every page of 500; filter: platform matching 10,")
    note("status matching none; 1 create / show / get: median of 50 / 200 "
         "/ 100 on one connection;")
    note("CPU: the agent's CPU time per call (schedstat), which fsync "
         "waits do not blur.")
    print()
    table(["passports", "vault.idw", "per passport", "audit.idw"], rows2)

    g = []
    first, last = res["sizes"][0], res["sizes"][-1]
    r = ratio(last["mutation"]["agent_cpu_us"],
              first["mutation"]["agent_cpu_us"])
    rw = ratio(last["mutation"]["rt"]["median"],
               first["mutation"]["rt"]["median"])
    g.append((f"one create at {last['size']:,} vs at {first['size']:,} "
              "(agent CPU; wall clock in brackets)", "≤ 1.5×",
              f"{fmt_ratio(r)} ({fmt_ratio(rw)})",
              None if r is None else r <= 1.5))
    f = last["filter_platform"]["walk"]["median"]
    g.append((f"list filtered by platform at {last['size']:,}"
              + ("" if last["size"] >= 100000 else " (goal is at 100,000)"),
              "≤ 10 ms", fmt_t(f), f <= 10000))
    goal_table(b, "scale", g)


# ---------------------------------------------------------------- 5. memory

def sec_memory(b):
    section("5. Memory: the agent as the vault grows and under load")
    secs = b.results["sections"]
    sc = secs.get("scale", {}).get("sizes", [])
    g = []
    if sc:
        rows = []
        for r in sc:
            m, live = r["mem_restarted"], r["mem_live"]
            lck = m.get("VmLck")
            rows.append([f"{r['size']:,}", fmt_kb(live.get("VmRSS")),
                         fmt_kb(m.get("VmRSS")), fmt_kb(m.get("VmHWM")),
                         fmt_kb(lck), fmt_bytes(r.get("locked_bytes")),
                         f"{lck / r['size']:.2f} KiB" if lck else "–",
                         memlock_advice(lck)])
        table(["passports", "RSS (after creating)", "RSS (restarted)",
               "peak RSS", "VmLck", "arena mapped", "locked/passport",
               "RLIMIT_MEMLOCK needed"], rows)
        lim = memlock_limit()
        last = sc[-1]["mem_restarted"].get("VmLck")
        note(f"RLIMIT_MEMLOCK here: {lim}; this run is "
             + ("root, which the limit does not bind" if os.geteuid() == 0
                else "not root"))
        if last and len(sc) > 1:
            per = (last - sc[0]["mem_restarted"]["VmLck"]) / \
                (sc[-1]["size"] - sc[0]["size"])
            fit = int((8192 - sc[0]["mem_restarted"]["VmLck"]) / per + \
                sc[0]["size"]) if per > 0 else None
            note(f"locked memory grows by about {per:.2f} KiB per passport; "
                 f"at the common default of 8 MiB an unprivileged agent")
            note(f"refuses to start above about {fit:,} passports "
                 f"(it names RLIMIT_MEMLOCK and the fix).")
        print()
    ag = secs.get("agent")
    if ag and ag.get("mem_after_load"):
        m0, m1, m2 = ag["mem_idle"], ag["mem_after_warmup"], \
            ag["mem_after_load"]
        grow = ag["rss_growth_kb"]
        flag = grow is not None and grow > 256
        rss = [x[1] for x in ag.get("rss_samples") or []]
        table(["agent under load (section 2)", "idle", "after warm-up",
               "halfway", f"after {ag['load_calls']:,} calls",
               "second half", ""],
              [["RSS", fmt_kb(m0.get("VmRSS")), fmt_kb(m1.get("VmRSS")),
                fmt_kb(ag.get("rss_mid_kb")), fmt_kb(m2.get("VmRSS")),
                ("+" if grow is not None and grow >= 0 else "")
                + fmt_kb(grow), "GROWTH" if flag else "flat"],
               ["VmLck", fmt_kb(m0.get("VmLck")), fmt_kb(m1.get("VmLck")),
                "", fmt_kb(m2.get("VmLck")), "", ""]])
        note(f"RSS read every 0.2 s during the run ({len(rss)} samples, "
             f"{fmt_kb(min(rss)) if rss else '–'} to "
             f"{fmt_kb(max(rss)) if rss else '–'}); growth is judged on "
             "the second half, so buffers")
        note("that grow to a working size early are not taken for a leak; "
             "more than 256 KiB is flagged.")
        print()
        g.append(("RSS growth, second half of the load run", "≤ 256 KiB",
                  ("+" if grow >= 0 else "") + fmt_kb(grow), not flag))
    if not sc and not ag:
        raise Skip("sections 2 and 4 did not run")
    if g:
        goal_table(b, "memory", g)


def memlock_limit():
    try:
        import resource
        soft, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
        return "unlimited" if soft == resource.RLIM_INFINITY else \
            fmt_kb(soft / 1024)
    except (ImportError, ValueError):
        return "unknown"


def memlock_advice(kb):
    """The smallest whole MiB at or above kb, as ulimit -l takes it."""
    if not kb:
        return "–"
    mib = -(-int(kb) // 1024)
    return f"≥ {mib} MiB (ulimit -l {mib * 1024})"


# ---------------------------------------------------------------- 6. audit

def sec_audit(b):
    section("6. Audit: append, one audited access, verify of a long log")
    res = b.results["sections"]["audit"] = {}
    n = b.n(1000000, 20000)
    out = os.path.join(b.tmp, "audit.json")
    argv = [sys.executable, os.path.join(HERE, "audit.py"), "--bin", b.bin,
            "--entries", str(n), "--json", out] + \
        (["--quick"] if b.quick else [])
    r = subprocess.run(argv, capture_output=True, timeout=3600,
                       stdin=subprocess.DEVNULL)
    for line in r.stdout.decode(errors="replace").splitlines():
        print(f"  {line}")
    if r.returncode != 0 or not os.path.exists(out):
        err = r.stderr.decode(errors="replace").strip().splitlines()
        raise Skip("audit.py failed: " + (err[-1] if err else
                                          f"exit {r.returncode}"))
    with open(out) as f:
        res.update(json.load(f))
    res["entries"] = n
    print()
    v = res.get("verify_s")
    g = [(f"idw audit verify of {n:,} entries"
          + ("" if n >= 1000000 else " (goal is at 1,000,000)"),
          "≤ 1 s", f"{v:.2f} s" if v is not None else "–",
          None if v is None else v <= 1)]
    goal_table(b, "audit", g)


# ------------------------------------------------------------ 7. redaction

def sec_redact(b):
    section("7. idw run's output filter: throughput and added time")
    res = b.results["sections"]["redact"] = {}
    exe = b.tool("redact_bench")
    if exe is None:
        raise Skip("redact_bench was not compiled")
    mib = b.n(64, 4)
    r = subprocess.run([exe, str(mib)], capture_output=True, timeout=600,
                       stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise Skip(f"redact_bench failed: exit {r.returncode}")
    res.update(json.loads(r.stdout))
    copy = res["copy_mb_s"]
    rows = [["plain copy to the sink (floor)", f"{copy:,.0f} MB/s", "1.00×"]]
    for k, what in (("one_value_mb_s", "filter, 1 value"),
                    ("sixteen_values_mb_s", "filter, 16 values"),
                    ("worst_case_mb_s", "filter, input built against one "
                     "4 KiB value")):
        rows.append([what, f"{res[k]:,.0f} MB/s",
                     fmt_ratio(ratio(copy, res[k]))])
    table([f"{mib} MiB of log-like text, 64 KiB reads", "throughput",
           "slower than the floor"], rows)
    print()
    def ns(us):
        return f"{us * 1000:,.0f} ns"
    table(["one 80-byte line, fed and flushed", "median"],
          [["plain copy", ns(res["line_copy_us"])],
           ["filter, 1 value", ns(res["line_one_value_us"])],
           ["filter, 16 values", ns(res["line_sixteen_values_us"])],
           ["added per feed, 16 values",
            ns(res["added_us_per_feed_sixteen_values"])]])


# ------------------------------------------------- every figure produced

def need_figures(b, only):
    """What each section must have produced: (section key, figure name,
    path into its results).  Peers that may be absent are in
    optional_figures instead."""
    need = []
    if "1" in only:
        for k in ("idw", "floor", "empty"):
            need += [("mcp", f"cold start {k}", ("cold_us", k)),
                     ("mcp", f"RSS after initialize {k}", ("rss_kb", k))]
        for k in ("idw", "floor"):
            for f in (("list1_us",), ("list2_us",), ("call1_us",),
                      ("rss_end_kb",), ("ping", "median"), ("ping", "p99"),
                      ("call", "median"), ("call", "p99"),
                      ("call", "per_s")):
                need.append(("mcp", f"{k} {'.'.join(f)}", ("warm", k) + f))
        need += [("mcp", "C floor + hop warm call",
                  ("warm", "hop", "call", "median")),
                 ("mcp", "idw-mcp CPU per get_credential",
                  ("warm", "idw", "call_cpu_us")),
                 ("mcp", "agent CPU per get_credential",
                  ("agent_cpu_us_per_call",))]
    if "2" in only:
        for name in ("show", "check_policy", "list (limit 10)", "status",
                     "get (audited)"):
            need += [("agent", f"{name} median", ("rt", name, "rt",
                                                  "median")),
                     ("agent", f"{name} agent CPU", ("rt", name,
                                                     "agent_cpu_us")),
                     ("agent", f"{name} echo floor", ("rt_floor", name, "rt",
                                                      "median"))]
        need += [("agent", "load throughput", ("load", "per_s")),
                 ("agent", "load p99", ("load", "lat", "p99")),
                 ("agent", "load errors", ("load", "errors")),
                 ("agent", "load echo floor", ("load_floor", "per_s")),
                 ("agent", "audit entries of the load", ("audit_entries",)),
                 ("agent", "RSS growth under load", ("rss_growth_kb",))]
    if "3" in only:
        need += [("unlock", "session token", ("session_token_ms",)),
                 ("unlock", "passphrase interactive",
                  ("passphrase_interactive_ms",)),
                 ("unlock", "passphrase moderate",
                  ("passphrase_moderate_ms",)),
                 ("unlock", "Argon2id alone interactive",
                  ("kdf_floor_ms", "interactive")),
                 ("unlock", "Argon2id alone moderate",
                  ("kdf_floor_ms", "moderate"))]
        if not b.quick:
            need += [("unlock", "passphrase sensitive",
                      ("passphrase_sensitive_ms",)),
                     ("unlock", "Argon2id alone sensitive",
                      ("kdf_floor_ms", "sensitive"))]
    if "4" in only:
        sizes = [1000, 10000] + ([] if b.quick else [100000])
        for i, size in enumerate(sizes):
            for name, f in (("bulk create", ("create_bulk", "per_s")),
                            ("restart", ("restart_ms",)),
                            ("list all", ("list_all", "walk", "median")),
                            ("filter platform", ("filter_platform", "walk",
                                                 "median")),
                            ("filter status", ("filter_status", "walk",
                                               "median")),
                            ("one create", ("mutation", "rt", "median")),
                            ("one create CPU", ("mutation", "agent_cpu_us")),
                            ("show", ("show", "rt", "median")),
                            ("get", ("get", "rt", "median")),
                            ("vault size", ("vault_bytes",)),
                            ("locked memory", ("mem_restarted", "VmLck")),
                            ("locked arena", ("locked_bytes",))):
                need.append(("scale", f"{name} at {size:,}",
                             ("sizes", i) + f))
    if "6" in only:
        for name in ("append_nosync_us", "append_fsync_us",
                     "get, standard (entry written)",
                     "get, critical (entry fsynced)", "audit_cost_us",
                     "agent_start_s", "verify_s", "verify_inprocess_s",
                     "agent_rss_kb_after"):
            need.append(("audit", name, (name,)))
    if "7" in only:
        for name in ("copy_mb_s", "one_value_mb_s", "sixteen_values_mb_s",
                     "worst_case_mb_s", "line_one_value_us",
                     "added_us_per_feed_sixteen_values"):
            need.append(("redact", name, (name,)))
    return need


def optional_figures(b, only):
    """Figures of peers that may be missing here, each with the printed
    reason: the Node MCP servers (node, npm and the registry) and the
    keychain beside secret-tool (gnome-keyring, dbus)."""
    opt = []
    if "1" in only:
        for key, label, *_ in NPM_PEERS:
            opt += [("mcp", f"{label} cold start", ("cold_us", key),
                     b.npm_why),
                    ("mcp", f"{label} warm call", ("warm", key, "call",
                                                   "median"), b.npm_why)]
    if "1" in only:
        sc = b.results["sections"].get("mcp", {}).get("syscalls", {})
        opt.append(("mcp", "idw-mcp system calls per call (strace)",
                    ("syscalls", "per_call"), sc.get("skip")))
    if "3" in only:
        kc = b.results["sections"].get("unlock", {}).get("keychain", {})
        why = kc.get("skip") or kc.get("secret_tool_why")
        opt += [("unlock", "keychain unlock", ("keychain", "keychain_ms"),
                 why),
                ("unlock", "secret-tool lookup",
                 ("keychain", "secret_tool_ms"), why)]
    return opt


def dig(d, path):
    for k in path:
        if isinstance(d, dict) and k in d:
            d = d[k]
        elif isinstance(d, list) and isinstance(k, int) and k < len(d):
            d = d[k]
        else:
            return None
    return d


def produced(v):
    return v is not None and v != [] and v != {}


def check_figures(b, only):
    """Names every figure that was not produced; [] when all were.  Speed
    is never judged here."""
    secs = b.results["sections"]
    missing = [f"{sec}: {name}" for sec, name, path in need_figures(b, only)
               if not produced(dig(secs.get(sec), path))]
    skipped = []
    for sec, name, path, why in optional_figures(b, only):
        if produced(dig(secs.get(sec), path)):
            continue
        if why:
            skipped.append(f"{sec}: {name} (skipped: {why})")
        else:
            missing.append(f"{sec}: {name}")
    b.results["missing_figures"] = missing
    b.results["skipped_figures"] = skipped
    return missing, skipped


# ---------------------------------------------------------------- main

def summary(b, wall):
    section("Summary: goals (targets recorded, never asserted)")
    rows = []
    for sec, what, target, measured, met in b.goals:
        rows.append([sec, what, target, measured,
                     "met" if met else "n/a" if met is None else "NOT MET"])
    if rows:
        table(["section", "goal", "target", "measured", ""], rows, left=2)
    met = sum(1 for g in b.goals if g[4])
    notmet = sum(1 for g in b.goals if g[4] is False)
    na = sum(1 for g in b.goals if g[4] is None)
    note(f"{met} met, {notmet} not met" + (f", {na} not measurable here"
                                           if na else "") +
         f"; bench wall time {wall:.0f} s" + (" (--quick)" if b.quick
                                               else ""))
    skipped = b.results.get("skipped", {})
    for k, v in skipped.items():
        note(f"section {k}: {v if v.startswith('failed') else 'skipped: ' + v}")
    b.results["goals"] = [dict(zip(("section", "goal", "target", "measured",
                                    "met"), g)) for g in b.goals]
    b.results["wall_s"] = wall


SECTIONS = [("1", "mcp", sec_mcp), ("2", "agent", sec_agent),
            ("3", "unlock", sec_unlock), ("4", "scale", sec_scale),
            ("5", "memory", sec_memory), ("6", "audit", sec_audit),
            ("7", "redact", sec_redact)]


def machine():
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["cores"] = os.cpu_count()
    info["kernel"] = os.uname().release
    return info


def build_type(bindir):
    cache = os.path.join(os.path.dirname(bindir), "CMakeCache.txt")
    try:
        with open(cache) as f:
            m = re.search(r"^CMAKE_BUILD_TYPE:STRING=(.*)$", f.read(), re.M)
            return (m.group(1) or "RelWithDebInfo (default)") if m else "?"
    except OSError:
        return "unknown (no CMakeCache.txt beside bin/)"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--bin", required=True)
    ap.add_argument("--tools", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--json")
    ap.add_argument("--only", default="1234567")
    ap.add_argument("--keychain-inner", action="store_true")
    ap.add_argument("--n", type=int, default=5)
    args = ap.parse_args()
    if args.keychain_inner:
        keychain_inner(args)
        return 0
    b = Bench(args)
    t0 = time.monotonic()
    m = machine()
    b.results["machine"] = m
    b.results["build"] = build_type(b.bin)
    print(f"idw benchmarks{' (--quick)' if b.quick else ''}: "
          f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    print(f"  machine: {m.get('cpu', '?')}, {m['cores']} cores, Linux "
          f"{m['kernel']}")
    print(f"  binaries: {b.bin} (build type {b.results['build']})")
    print("  figures are medians unless named; ratios compare runs made "
          "here, now, interleaved where it matters", flush=True)
    if "1" in args.only:
        b.npm_dir, b.npm_why = install_peers(b)
    b.results["skipped"] = {}
    try:
        for num, key, fn in SECTIONS:
            if num not in args.only:
                continue
            try:
                fn(b)
            except Skip as e:
                note(f"section {num} ({key}) skipped: {e}")
                b.results["skipped"][key] = str(e)
            except (OSError, ConnectionError, subprocess.SubprocessError,
                    KeyError, ValueError) as e:
                # A benchmark that breaks is a finding, not the end of
                # the run: say where, go on with the next section.
                tb = traceback.extract_tb(e.__traceback__)[-1]
                why = (f"{type(e).__name__}: {e} (bench.py line "
                       f"{tb.lineno})")
                note(f"section {num} ({key}) failed: {why}")
                b.results["skipped"][key] = "failed: " + why
            finally:
                for h in b.homes:
                    h.close()
                b.homes = []
    finally:
        b.cleanup()
    summary(b, time.monotonic() - t0)
    missing, skipped = check_figures(b, args.only)
    print()
    for x in skipped:
        note(f"not measured here: {x}")
    if missing:
        note(f"{len(missing)} figures were not produced:")
        for x in missing:
            note(f"  {x}")
    else:
        note("every figure was produced" + (
            f" (but {len(skipped)} peer figures skipped, reasons above)"
            if skipped else ""))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(b.results, f, indent=1)
        print(f"\n  JSON: {args.json}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
