#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The cost of the audit trail (bench/README.md, "Audit").

  python3 bench/audit.py [--bin DIR] [--entries N] [--quick] [--json FILE]

1. audit_append alone (bench/audit_bench.c, linked against the agent's
   code): an entry written (pwrite), and written and fsynced (a critical
   passport's).
2. One audited access against unaudited requests, over the agent's socket,
   the four requests taken in turn:
   'show' (metadata, no audit entry), 'check_policy' (the decision, no
   entry), 'get' of a standard passport (decision, entry written, value
   sent), 'get' of a critical one (the entry fsynced before the value).
3. 'idw audit verify' over a log of N entries (default 1,000,000),
   generated into a real vault by audit_bench as the agent writes them;
   the agent's memory before and after shows the walk stays bounded.

Standard library only; not run by ctest.  Exits 0 whatever it measures.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))
import idwtest  # noqa: E402

PASS = idwtest.PASS


def build_helper(bindir, out):
    build = os.path.dirname(bindir.rstrip("/"))
    libs = [os.path.join(build, d, f"lib{n}.a") for d, n in
            (("agentd", "idwagent"), ("sandbox", "idwsandbox"),
             ("keychain", "idwkeychain"), ("common", "idwcommon"))]
    for lib in libs:
        if not os.path.exists(lib):
            sys.exit(f"audit.py: {lib} is missing: build idw first")
    exe = os.path.join(out, "audit_bench")
    subprocess.run(["cc", "-O2", "-std=gnu11", "-D_GNU_SOURCE",
                    '-DIDW_VERSION="bench"', "-I", SRC,
                    os.path.join(HERE, "audit_bench.c"), "-o", exe, *libs,
                    "-lsodium", "-lcjson", "-lseccomp"], check=True)
    return exe


def figures(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, env=env,
                         timeout=3600).stdout.decode()
    return {k: float(v) for k, v in (ln.split() for ln in out.splitlines())}


def proc_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            if ln.startswith(field + ":"):
                return int(ln.split()[1])
    return -1


def timed(conn, reqs, n):
    """Median us of each request, the requests taken in turn (one of each
    per round), so a neighbour's burst on a shared machine falls on all of
    them alike and their differences hold."""
    out = [[] for _ in reqs]
    for i in range(n):
        for k, (req, every) in enumerate(reqs):
            if i % every:
                continue
            t0 = time.perf_counter()
            rep = conn.call(req)
            out[k].append((time.perf_counter() - t0) * 1e6)
            assert rep["ok"], rep
    return [statistics.median(x) for x in out]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get(
        "IDW_BIN", os.path.join(SRC, "build", "bin")))
    ap.add_argument("--entries", type=int, default=1000000)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()
    if a.quick:
        a.entries = min(a.entries, 100000)
    rounds = 300 if a.quick else 2000
    idwtest.BIN = a.bin
    res = {}
    tmp = tempfile.mkdtemp(prefix="idw-bench-audit-")
    os.chmod(tmp, 0o700)
    try:
        exe = build_helper(a.bin, tmp)
        print("1. audit_append alone (us per entry)")
        r = figures([exe, "append", tmp, str(rounds)])
        res.update(r)
        print(f"   written {r['append_nosync_us']:8.2f}   written and "
              f"fsynced {r['append_fsync_us']:8.2f}")

        print("2. one request over the socket (median us)")
        with idwtest.Home() as h:
            h.init()
            std = h.create("bench", "sk-bench-standard", "--owner", "b")
            crit = h.create("crit", "sk-bench-critical", "--owner", "b",
                            "--tier", "critical")
            c = idwtest.Conn(h.sock)
            rows = [("show (no entry)", {"verb": "show", "id": std}),
                    ("check_policy (no entry)",
                     {"verb": "check_policy", "id": std}),
                    ("get, standard (entry written)",
                     {"verb": "get", "id": std, "purpose": "bench"}),
                    ("get, critical (entry fsynced)",
                     {"verb": "get", "id": crit, "purpose": "bench"})]
            # A critical get waits for its fsync: one in four rounds.
            reqs = [(req, 4 if "critical" in name else 1)
                    for name, req in rows]
            timed(c, reqs, 20)
            for (name, _), us in zip(rows, timed(c, reqs, rounds)):
                res[name] = us
                print(f"   {name:32s} {us:9.1f}")
            res["audit_cost_us"] = res["get, standard (entry written)"] - \
                res["check_policy (no entry)"]
            print(f"   the audited access costs {res['audit_cost_us']:.1f} "
                  f"us more than the decision alone")
            c.close()

        print(f"3. idw audit verify over {a.entries:,} entries")
        with idwtest.Home() as h:
            h.init()
            h.idw("agent", "stop")
            env = dict(h.env)
            g = figures([exe, "gen", h.home, str(a.entries)], env)
            res.update(g)
            size = os.path.getsize(os.path.join(h.home, "audit.idw"))
            print(f"   generated in {g['gen_seconds']:.1f} s: "
                  f"{int(g['log_entries']):,} entries, {size / 1e6:.1f} MB")
            t0 = time.perf_counter()
            h.idw("agent", "start")
            res["agent_start_s"] = time.perf_counter() - t0
            pid = h.agent_pid()
            rss0 = proc_kb(pid, "VmRSS")
            # Argon2id at unlock set the high-water mark; the walk adds to
            # the resident set only its window.
            hwm0 = proc_kb(pid, "VmHWM")
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                r = h.idw("audit", "verify", "--json", timeout=600)
                times.append(time.perf_counter() - t0)
                v = json.loads(r.stdout)
                assert v["entries"] >= int(g["log_entries"]), v
            res["verify_s"] = min(times)
            res["verify_intact"] = v["intact"]
            res["agent_rss_kb_before"] = rss0
            res["agent_rss_kb_after"] = proc_kb(pid, "VmRSS")
            res["agent_hwm_kb_before"] = hwm0
            res["agent_hwm_kb_after"] = proc_kb(pid, "VmHWM")
            print(f"   agent start (walks from the checkpoint): "
                  f"{res['agent_start_s']:.2f} s")
            print(f"   idw audit verify: {min(times):.2f} s best of 3 "
                  f"(goal <= 1 s: {'met' if min(times) <= 1 else 'not met'})"
                  f", intact={v['intact']}")
            print(f"   agent resident memory: {rss0} kB before, "
                  f"{res['agent_rss_kb_after']} kB after; peak "
                  f"{hwm0} kB before (Argon2id at unlock), "
                  f"{res['agent_hwm_kb_after']} kB after")
            h.idw("agent", "stop")
            inproc = figures([exe, "verify", h.home], env)
            res["verify_inprocess_s"] = inproc["verify_seconds"]
            print(f"   the same walk in-process: "
                  f"{inproc['verify_seconds']:.2f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
