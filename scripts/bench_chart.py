#!/usr/bin/env python3
"""The speed bars of issue 7, end to end through the real `cipherchart` binary and server
(SQLite, TLS, audit log on), as a user's shell runs them. Called by scripts/bench-chart.

1. import: `doctor register-patient --fhir-bundle` of the median-size Synthea bundle and of the
   one closest to 1 MiB, --runs times each (a new patient every run).
2. a patient with --entries entries (default 1,000): the median bundle imported, then one
   `doctor add PID report --file batch.json` of Observations (each its own entry).
3. view: `doctor view PID --json` of that patient, --runs times with outsourced decryption off
   and on, interleaved.
Reported: medians of wall-clock time per command (process start, Argon2id wallet unlock, TLS
login, directory fetch and verification included), and the command's own split (list, fetch,
ABE, transform). The bars: import <= 5 s, view of 1,000 entries <= 3 s.
"""

import argparse
import copy
import json
import os
import statistics
import sys
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from harness import Cluster  # noqa: E402


def timed(c, *args, **kw):
    t0 = time.monotonic()
    out = c.run(*args, **kw)
    return time.monotonic() - t0, out


def observations(synthea, files, count):
    """`count` Observations (vital signs and laboratory) taken from the bundles, with fresh ids."""
    pool = []
    for f in files:
        for e in json.load(open(os.path.join(synthea, f)))["entry"]:
            if e["resource"]["resourceType"] == "Observation":
                pool.append(e["resource"])
        if len(pool) >= count:
            break
    out = []
    for i in range(count):
        r = copy.deepcopy(pool[i % len(pool)])
        r["id"] = str(uuid.UUID(int=i + 1))
        out.append(r)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build/bench/apps/cipherchart/cipherchart"))
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    ap.add_argument("--runs", type=int, default=7, help="repetitions per measurement (default 7)")
    ap.add_argument("--entries", type=int, default=1000, help="entries of the viewed patient (default 1000)")
    ap.add_argument("--json", help="write the results to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    synthea = os.path.join(args.data, "fhir", "synthea-r4")
    files = sorted((os.path.getsize(os.path.join(synthea, f)), f) for f in os.listdir(synthea)
                   if f.endswith(".json") and "Information" not in f)
    median_file = files[len(files) // 2][1]
    mib_file = min(files, key=lambda x: abs(x[0] - (1 << 20)))[1]
    results = {"runs": args.runs, "entries": args.entries}

    with Cluster(args.binary, keep=args.keep, prefix="cipherchart-bench.") as c:
        c.start_server()
        for ns in ("hospital_a", "hospital_b", "board"):
            c.authority(ns)
        uid = c.practitioner("doctor", "Dr Bench", "hospital_a", "doctor")
        c.approve_and_issue("doctor", uid, "hospital_a", "doctor", org_attrs=["staff", "role:doctor", "role:admin"])

        results["import"] = {}
        for label, f in (("median", median_file), ("1mib", mib_file)):
            path = os.path.join(synthea, f)
            walls, inner = [], []
            for _ in range(args.runs):
                wall, reg = timed(c, "doctor", "register-patient", "--fhir-bundle", path, home="doctor",
                                  want_json=True)
                walls.append(wall)
                inner.append(reg["seconds"])
            results["import"][label] = {
                "bundle": f, "kib": os.path.getsize(path) // 1024, "resources": reg["resources"],
                "entries": reg["records"], "wall_s_median": statistics.median(walls),
                "command_s_median": statistics.median(inner), "wall_s": walls}
            print(f"import {label:6} {f[:34]:34} {os.path.getsize(path) // 1024:5} KiB "
                  f"{reg['resources']:4} resources: median {statistics.median(walls):.2f} s wall "
                  f"({statistics.median(inner):.2f} s inside the command), bar 5 s", flush=True)

        # A patient with the requested number of entries.
        reg = c.run("doctor", "register-patient", "--fhir-bundle", os.path.join(synthea, median_file),
                    home="doctor", want_json=True)
        pid = reg["patient_id"]
        batch_size = args.entries - reg["records"] - 1  # the batch adds one de-identified copy
        batch = {"resourceType": "Bundle", "type": "collection",
                 "entry": [{"resource": r} for r in observations(synthea, [f for _, f in files], batch_size)]}
        batch_path = os.path.join(c.dir, "batch.json")
        with open(batch_path, "w") as f:
            json.dump(batch, f)
        wall, added = timed(c, "doctor", "add", pid, "report", "--file", batch_path, home="doctor", want_json=True)
        print(f"add: {added['resources']} Observations as {added['entries']} entries in {wall:.2f} s", flush=True)
        results["add_batch"] = {"resources": added["resources"], "entries": added["entries"], "wall_s": wall}

        views = {"plain": [], "outsourced": []}
        splits = {"plain": [], "outsourced": []}
        for _ in range(args.runs):
            for mode, extra in (("plain", []), ("outsourced", ["--outsourced"])):
                wall, v = timed(c, "doctor", "view", pid, *extra, home="doctor", want_json=True)
                assert len(v["entries"]) == args.entries, (len(v["entries"]), args.entries)
                assert v["tampered"] == 0 and v["opened"] == args.entries - v["not_accessible"]
                views[mode].append(wall)
                splits[mode].append(dict(v["timing_ms"], command_s=v["seconds"]))
        results["view"] = {}
        for mode in ("plain", "outsourced"):
            med = {k: statistics.median(s[k] for s in splits[mode]) for k in splits[mode][0]}
            results["view"][mode] = {"wall_s_median": statistics.median(views[mode]), "wall_s": views[mode],
                                     "split_ms_median": med}
            print(f"view {args.entries} entries, outsourced {'on ' if mode == 'outsourced' else 'off'}: "
                  f"median {statistics.median(views[mode]):.2f} s wall ({med['command_s']:.2f} s reading the "
                  f"chart: list {med['list']:.0f} ms, fetch {med['fetch']:.0f} ms, ABE {med['abe']:.0f} ms, "
                  f"transform {med['transform']:.0f} ms), bar 3 s", flush=True)
        ratio = results["view"]["outsourced"]["wall_s_median"] / results["view"]["plain"]["wall_s_median"]
        results["view"]["outsourced_over_plain"] = ratio
        print(f"outsourced / plain: {ratio:.2f}x")
        # The cost every command pays before it reads anything: `doctor status` (unlock + login).
        walls = [timed(c, "doctor", "status", home="doctor")[0] for _ in range(args.runs)]
        results["status_wall_s_median"] = statistics.median(walls)
        print(f"reference: `doctor status` (start, wallet unlock, login) median {statistics.median(walls):.2f} s")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    ok = (all(v["wall_s_median"] <= 5 for v in results["import"].values())
          and all(results["view"][m]["wall_s_median"] <= 3 for m in ("plain", "outsourced")))
    print("bench-chart: every bar met" if ok else "bench-chart: a bar was MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
