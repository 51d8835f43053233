#!/usr/bin/env python3
"""Round trip of every Synthea patient bundle (issue 7, "What it must show" 2 and 3): each one is
imported with `doctor register-patient --fhir-bundle` by a doctor whose keys open every section,
and `doctor view --json` must return resources semantically equal to the bundle's (same
resources by type and id, equal as JSON values: key order and number spelling aside). Then the
server's storage is scanned for every patient's names, identifiers and a sample of clinical text.

  roundtrip_test.py --binary build/release/apps/cipherchart/cipherchart --data ../shared/data [--keep]
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Cluster, clinical_strings, identifying_strings, scan_storage  # noqa: E402


def differences(expected, got):
    """Resources missing, unexpected or different, keyed by (resourceType, id)."""
    def index(resources):
        out = {}
        for r in resources:
            out.setdefault((r.get("resourceType"), r.get("id")), []).append(r)
        return out
    want, have = index(expected), index(got)
    problems = []
    for key in sorted(set(want) | set(have), key=str):
        a, b = want.get(key, []), have.get(key, [])
        if len(a) != len(b):
            problems.append(f"{key}: {len(a)} in the bundle, {len(b)} in the view")
        elif any(x != y for x, y in zip(a, b)):  # Python equality: 1 == 1.0, key order ignored
            problems.append(f"{key}: content differs")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    synthea = os.path.join(args.data, "fhir", "synthea-r4")
    files = sorted(f for f in os.listdir(synthea) if f.endswith(".json") and "Information" not in f)
    assert len(files) == 40, f"expected the 40 Synthea patients, found {len(files)}"

    with Cluster(args.binary, keep=args.keep, prefix="cipherchart-roundtrip.") as c:
        c.start_server()
        for ns in ("hospital_a", "hospital_b", "board"):  # the policy file names both hospitals
            c.authority(ns)
        uid = c.practitioner("doctor", "Dr All Access", "hospital_a", "doctor")
        keys = c.approve_and_issue("doctor", uid, "hospital_a", "doctor",
                                   org_attrs=["staff", "role:doctor", "role:admin"])
        assert {"hospital_a.role:admin", "hospital_a.staff", "board.role:doctor"} <= set(keys["installed"]), keys

        needles, failures, import_s, view_s = set(), [], [], []
        for n, f in enumerate(files, 1):
            path = os.path.join(synthea, f)
            bundle = json.load(open(path))
            expected = [e["resource"] for e in bundle["entry"]]
            t0 = time.monotonic()
            reg = c.run("doctor", "register-patient", "--fhir-bundle", path, home="doctor", want_json=True)
            t1 = time.monotonic()
            view = c.run("doctor", "view", reg["patient_id"], home="doctor", want_json=True)
            t2 = time.monotonic()
            import_s.append(t1 - t0)
            view_s.append(t2 - t1)
            # The researchers' de-identified copies are the one section this doctor cannot open.
            closed = {e["section"] for e in view["entries"] if e["state"] != "opened"}
            problems = [] if closed <= {"research"} else [f"sections not opened: {sorted(closed)}"]
            problems += differences(expected, view["resources"])
            if reg["resources"] != len(expected):
                problems.append(f"import counted {reg['resources']} resources, the bundle has {len(expected)}")
            status = "ok" if not problems else "FAILED: " + "; ".join(problems[:5])
            print(f"[{n:2}/40] {f[:40]:40} {len(expected):4} resources, {reg['records']:2} entries, "
                  f"import {t1 - t0:5.2f} s, view {t2 - t1:5.2f} s  {status}", flush=True)
            if problems:
                failures.append(f)
            needles |= identifying_strings(bundle) | set(clinical_strings(bundle, limit=15))

        c.stop_server()
        hits, scanned = scan_storage(c.data_dir, [os.path.join(c.dir, "server.log")], needles)
        print(f"leakage scan: {scanned['files']} files, {scanned['cells']} cells of {scanned['tables']} tables, "
              f"{len(needles)} strings of the 40 patients: {len(hits)} found")
        import_s.sort()
        view_s.sort()
        print(f"median import {import_s[len(import_s) // 2]:.2f} s (max {import_s[-1]:.2f} s), "
              f"median view {view_s[len(view_s) // 2]:.2f} s (max {view_s[-1]:.2f} s), "
              "process start, passphrase unlock and login included")
        assert not failures, f"{len(failures)} bundles did not round-trip: {failures}"
        assert not hits, f"patient data on the server: {hits[:10]}"
        print("roundtrip_test: all 40 bundles round-trip; nothing of theirs on the server")


if __name__ == "__main__":
    main()
