# SPDX-License-Identifier: ISC
"""idw vault repair: a vault that refuses to open because a byte of a
middle record was flipped is shown as damaged (record, offset), cut to its
valid prefix only after a yes, with the whole file kept aside, and the
audit log re-anchored so 'idw audit verify' passes."""
import glob
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from idwtest import PASS, Home, need_bin, run_cases  # noqa: E402

need_bin()
PROOF = (PASS + "\n").encode()


def records(path):
    """(offset, size) of each journal record, by their length fields."""
    d = open(path, "rb").read()
    off, out = 12288, []
    while off + 36 <= len(d):
        (n,) = struct.unpack_from("<I", d, off)
        out.append((off, 36 + n))
        off += 36 + n
    return out


def damaged_home(h):
    """A vault of 6 passports with one byte flipped in a middle record."""
    h.init()
    for i in range(6):
        h.create(f"p{i}", f"value-{i}")
    assert h.idw("agent", "stop").returncode == 0
    v = os.path.join(h.home, "vault.idw")
    recs = records(v)
    k = len(recs) // 2
    off, size = recs[k]
    d = bytearray(open(v, "rb").read())
    d[off + 36 + size // 3] ^= 0x10
    open(v, "wb").write(d)
    return v, bytes(d), k, off


def test_repair_keeps_the_valid_prefix():
    with Home() as h:
        v, damaged, k, off = damaged_home(h)
        r = h.idw("list")
        assert r.returncode != 0 and b"authentication failed" in r.stderr
        assert b"idw vault repair" in r.stderr, r.stderr
        # shown, and refused without --yes when stdin is not a terminal
        r = h.idw("vault", "repair", "--passphrase-stdin", input=PROOF)
        out = r.stdout.decode()
        assert r.returncode == 2 and b"--yes" in r.stderr, r.stderr
        assert f"journal record {k + 1} at byte offset {off}" in out, out
        assert f"records 1 to {k}" in out, out
        assert open(v, "rb").read() == damaged
        # a wrong passphrase changes nothing
        r = h.idw("vault", "repair", "--yes", "--passphrase-stdin",
                  input=b"wrong passphrase\n")
        assert r.returncode != 0, r.stdout
        assert open(v, "rb").read() == damaged
        r = h.idw("vault", "repair", "--yes", "--passphrase-stdin",
                  input=PROOF)
        assert r.returncode == 0, r.stdout + r.stderr
        assert b"re-anchored" in r.stdout, r.stdout
        aside = glob.glob(v + ".damaged-*")
        assert len(aside) == 1 and open(aside[0], "rb").read() == damaged
        assert os.stat(aside[0]).st_mode & 0o777 == 0o600
        r = h.idw("list", "--json")
        assert r.returncode == 0, r.stderr
        kept = {p["name"] for p in json.loads(r.stdout)["passports"]}
        assert kept and kept < {f"p{i}" for i in range(6)}, kept
        r = h.idw("audit", "verify")
        assert r.returncode == 0, r.stdout + r.stderr
        assert b"re-anchored" in r.stdout, r.stdout
        # nothing left to do
        r = h.idw("vault", "repair", "--passphrase-stdin", input=PROOF)
        assert r.returncode == 0 and b"nothing to repair" in r.stdout


def test_repair_of_a_sound_vault_does_nothing():
    with Home() as h:
        h.init()
        h.create("p", "v")
        assert h.idw("agent", "stop").returncode == 0
        v = os.path.join(h.home, "vault.idw")
        before = open(v, "rb").read()
        r = h.idw("vault", "repair", "--yes", "--passphrase-stdin",
                  input=PROOF)
        assert r.returncode == 0 and b"nothing to repair" in r.stdout, \
            r.stdout + r.stderr
        assert open(v, "rb").read() == before
        assert not glob.glob(v + ".damaged-*")


def test_damage_outside_the_journal_is_not_cut():
    with Home() as h:
        h.init()
        h.create("p", "v")
        assert h.idw("agent", "stop").returncode == 0
        v = os.path.join(h.home, "vault.idw")
        d = bytearray(open(v, "rb").read())
        d[30] ^= 1  # the header core: every MAC and AAD fails
        open(v, "wb").write(d)
        r = h.idw("vault", "repair", "--yes", "--passphrase-stdin",
                  input=PROOF)
        assert r.returncode != 0, r.stdout
        assert open(v, "rb").read() == bytes(d)
        assert not glob.glob(v + ".damaged-*")


run_cases([
    test_repair_keeps_the_valid_prefix,
    test_repair_of_a_sound_vault_does_nothing,
    test_damage_outside_the_journal_is_not_cut,
])
