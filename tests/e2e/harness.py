"""Drives the real `cipherchart` binary and server for the end-to-end tests and the chart bench.

A Cluster is a temporary directory with a running `cipherchart server run` (SQLite, TLS on a free
loopback port), its server admin, and any number of role homes (authorities, practitioners,
patients, family). Every call runs the binary as a user would, with the environment the README
documents (CIPHERCHART_SERVER, CIPHERCHART_CA_FILE, CIPHERCHART_TRUST_FILE,
CIPHERCHART_PASSPHRASE), and checks its exit code.
"""

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

PASSPHRASE = "e2e passphrase (not a secret)"

# Exit codes of every cipherchart command (apps/cipherchart/flows_common.h).
OK, FAILED, USAGE, REFUSED, TAMPERED, LOCKED = 0, 1, 2, 3, 4, 5


class CommandFailed(AssertionError):
    pass


class Cluster:
    def __init__(self, binary, keep=False, prefix="cipherchart-e2e."):
        self.binary = os.path.abspath(binary)
        if not os.access(self.binary, os.X_OK):
            raise SystemExit(f"{self.binary}: not an executable (build the 'cipherchart' target first)")
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.keep = keep
        self.server = None
        self.data_dir = os.path.join(self.dir, "server")
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith("CIPHERCHART_"):
                del self.env[k]
        self.env["CIPHERCHART_PASSPHRASE"] = PASSPHRASE
        self.env["CIPHERCHART_TRUST_FILE"] = os.path.join(self.dir, "trust.toml")
        with open(self.env["CIPHERCHART_TRUST_FILE"], "w") as f:
            f.write("[roots]\n")
        self.log = []

    # -- running commands -------------------------------------------------------------------
    def home(self, name):
        return os.path.join(self.dir, name)

    def run(self, *args, home=None, expect=OK, env=None, want_json=False):
        """Runs `cipherchart ARGS [--home DIR] [--json]`; asserts the exit code; returns
        (stdout, stderr) or the parsed JSON of stdout."""
        cmd = [self.binary, *args]
        if home is not None:
            cmd += ["--home", self.home(home)]
        if want_json:
            cmd.append("--json")
        e = dict(self.env)
        if env:
            e.update(env)
        t0 = time.monotonic()
        p = subprocess.run(cmd, env=e, capture_output=True, text=True)
        self.log.append((time.monotonic() - t0, " ".join(args[:2])))
        if expect is not None and p.returncode != expect:
            raise CommandFailed(
                f"`{' '.join(cmd)}` exited {p.returncode}, expected {expect}\n"
                f"stdout:\n{p.stdout[-4000:]}\nstderr:\n{p.stderr[-4000:]}")
        if want_json:
            try:
                return json.loads(p.stdout)
            except json.JSONDecodeError as err:
                raise CommandFailed(f"`{' '.join(cmd)}`: --json output is not JSON ({err}):\n{p.stdout[:2000]}")
        return p.stdout, p.stderr

    # -- the server ---------------------------------------------------------------------------
    def start_server(self):
        keys = self.run("admin", "keygen", home="admin", want_json=True)
        added = self.run("server", "add-admin", "--data-dir", self.data_dir, "--identity-key",
                         keys["identity_key"], "--delivery-key", keys["delivery_key"], want_json=True)
        self.run("admin", "adopt", added["user_id"], home="admin")
        self.server_out = open(os.path.join(self.dir, "server.out"), "w+")
        self.server_err = open(os.path.join(self.dir, "server.log"), "w")
        self.server = subprocess.Popen(
            [self.binary, "server", "run", "--data-dir", self.data_dir, "--listen", "127.0.0.1:0"],
            env=self.env, stdout=self.server_out, stderr=self.server_err)
        deadline = time.monotonic() + 30
        while True:
            self.server_out.seek(0)
            line = self.server_out.readline()
            if "listening" in line:
                break
            if self.server.poll() is not None or time.monotonic() > deadline:
                raise CommandFailed("the server did not start:\n" + open(self.server_err.name).read())
            time.sleep(0.05)
        port = json.loads(line)["port"]
        self.env["CIPHERCHART_SERVER"] = f"127.0.0.1:{port}"
        self.env["CIPHERCHART_CA_FILE"] = os.path.join(self.data_dir, "tls.crt")

    def stop_server(self):
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        self.server = None

    def close(self):
        self.stop_server()
        if self.keep:
            print(f"kept {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- parties -------------------------------------------------------------------------------
    def authority(self, ns):
        """An authority for namespace `ns`: keys sealed, approved by the server admin, published,
        and its root key added to the trust file."""
        out = self.run("authority", "init", "--namespace", ns, "--organisation", ns, home=ns, want_json=True)
        with open(self.env["CIPHERCHART_TRUST_FILE"], "a") as f:
            f.write(f'{ns} = "{out["root_key"]}"\n')
        self.run("admin", "approve", out["user_id"], home="admin")
        self.run("authority", "publish", home=ns)
        return out["user_id"]

    def practitioner(self, home, name, org, role):
        out = self.run("doctor", "register", "--name", name, "--licence", f"LIC-{random.randrange(10**6)}",
                       "--practice-start", "2010-01-01", "--practice-end", "2035-12-31",
                       "--organisation", org, "--role", role, home=home, want_json=True)
        return out["user_id"]

    def approve_and_issue(self, home, uid, org, board_role, org_attrs=(), board="board"):
        """`org` approves and issues (from the registration, or `org_attrs`), the board issues
        role:`board_role` and licence:active; the practitioner installs the keys."""
        self.run("authority", "approve", uid, home=org)
        self.run("authority", "issue", uid, *[x for a in org_attrs for x in ("--attr", a)], home=org)
        self.run("authority", "issue", uid, "--attr", f"role:{board_role}", "--attr", "licence:active",
                 home=board)
        return self.run("doctor", "fetch-keys", home=home, want_json=True)


def patient_resource(bundle):
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")


# Needles are at least this long: a case-insensitive match of 8 given bytes in random ciphertext
# has probability (2/256)^8 per position, about 1e-7 over 40 MB and 600 needles; shorter names
# would match by chance (4 letters: once per few MB).
MIN_NEEDLE = 8


def identifying_strings(bundle, min_len=MIN_NEEDLE):
    """The patient's names (full, and parts long enough), identifier values, address lines and
    telecom values: strings that must never reach the server (nor a researcher)."""
    p = patient_resource(bundle)
    out = set()
    for n in p.get("name", []):
        parts = n.get("prefix", []) + n.get("given", []) + [n.get("family", "")]
        out.add(" ".join(x for x in parts if x))
        out.add(" ".join(n.get("given", []) + [n.get("family", "")]))
        out |= set(parts)
    for i in p.get("identifier", []):
        out.add(i.get("value", ""))
    for a in p.get("address", []):
        out |= set(a.get("line", []))
    for t in p.get("telecom", []):
        out.add(t.get("value", ""))
    out.add(p.get("id", ""))
    return {x for x in out if len(x) >= min_len}


def clinical_strings(bundle, limit=100):
    """A sample of clinical free text: the displays of conditions, medications, procedures and
    observations (>= 10 characters, so that no short common word matches by chance)."""
    seen = []
    for e in bundle["entry"]:
        r = e["resource"]
        for field in ("code", "medicationCodeableConcept", "type"):
            v = r.get(field)
            items = v if isinstance(v, list) else [v] if isinstance(v, dict) else []
            for cc in items:
                for c in cc.get("coding", []):
                    d = c.get("display", "")
                    if len(d) >= 10 and d not in seen:
                        seen.append(d)
    rng = random.Random(7)
    return rng.sample(seen, min(limit, len(seen)))


def scan_storage(data_dir, extra_files, needles):
    """Every file under `data_dir` (and `extra_files`) as raw bytes, and every cell of every table
    of the SQLite database, searched case-insensitively for every needle. Returns the hits as
    (where, needle) pairs and the counts of what was scanned."""
    import sqlite3
    lowered = [(n, n.lower().encode()) for n in needles]
    hits, files, cells = [], 0, 0
    paths = []
    for root, _, names in os.walk(data_dir):
        paths += [os.path.join(root, n) for n in names]
    paths += [p for p in extra_files if os.path.exists(p)]
    for path in paths:
        with open(path, "rb") as f:
            data = f.read().lower()
        files += 1
        hits += [(path, n) for n, b in lowered if b in data]
    db = sqlite3.connect(f"file:{os.path.join(data_dir, 'cipherchart.db')}?mode=ro", uri=True)
    tables = [r[0] for r in db.execute("select name from sqlite_master where type = 'table'")]
    for t in tables:
        for row in db.execute(f'select * from "{t}"'):
            for v in row:
                cells += 1
                b = v if isinstance(v, bytes) else str(v).encode()
                b = b.lower()
                hits += [(f"table {t}", n) for n, nb in lowered if nb in b]
    db.close()
    return hits, {"files": files, "tables": len(tables), "cells": cells}
