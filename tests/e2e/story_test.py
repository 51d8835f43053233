#!/usr/bin/env python3
"""End-to-end test of the demo story (issue 7, "What it must show" 1 and 3) through the real
`cipherchart` binary and server, with an assertion at every step, the refusals, a tampered
record, and a scan of the server's storage for the patient's data.

  story_test.py --binary build/release/apps/cipherchart/cipherchart --data ../shared/data
                [--bundle FILE] [--keep]
"""

import argparse
import base64
import hashlib
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (LOCKED, OK, REFUSED, TAMPERED, Cluster, clinical_strings,  # noqa: E402
                     identifying_strings, patient_resource, scan_storage)

STEP_START = [time.monotonic()]
ATTACHMENT_MARKER = b"CIPHERCHART-ATTACHMENT-MARKER-7731-not-for-the-server"


def step(title):
    now = time.monotonic()
    print(f"   ({now - STEP_START[0]:.2f} s)\n== {title}", flush=True)
    STEP_START[0] = now


def sections(view, state):
    return {e["section"] for e in view["entries"] if e["state"] == state}


def by_type(resources, kind):
    return [r for r in resources if r.get("resourceType") == kind]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--data", required=True, help="the shared data folder (../shared/data)")
    ap.add_argument("--examples", required=True, help="the repository's examples/ folder")
    ap.add_argument("--bundle", help="Synthea bundle to import (default: the median-size one)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    synthea = os.path.join(args.data, "fhir", "synthea-r4")
    if args.bundle:
        bundle_path = args.bundle
    else:
        patients = sorted((os.path.getsize(os.path.join(synthea, f)), f) for f in os.listdir(synthea)
                          if f.endswith(".json") and "Information" not in f)
        bundle_path = os.path.join(synthea, patients[len(patients) // 2][1])
    bundle = json.load(open(bundle_path))
    prescription = json.load(open(os.path.join(args.examples, "prescription.json")))
    ecg = json.load(open(os.path.join(args.examples, "ecg.json")))

    with Cluster(args.binary, keep=args.keep, prefix="cipherchart-story.") as c:
        step("server (SQLite, TLS) and three authorities")
        c.start_server()
        for ns in ("hospital_a", "hospital_b", "board"):
            c.authority(ns)

        step("doctor A registers and is approved; an unapproved doctor gets no keys")
        doc_a = c.practitioner("doctor_a", "Dr Alice Adams", "hospital_a", "doctor")
        fetched = c.approve_and_issue("doctor_a", doc_a, "hospital_a", "doctor",
                                      org_attrs=["staff", "role:doctor", "role:admin", "licence:active"])
        assert {"hospital_a.role:admin", "board.role:doctor"} <= set(fetched["installed"]), fetched
        eve = c.practitioner("unapproved", "Dr Eve Unapproved", "hospital_a", "doctor")
        status = c.run("doctor", "status", home="unapproved", want_json=True)
        assert status["state"] == "pending", status
        _, err = c.run("authority", "issue", eve, home="hospital_a", expect=REFUSED)
        assert "not approved" in err, err
        c.run("authority", "issue", eve, "--attr", "role:doctor", home="board", expect=REFUSED)
        none = c.run("doctor", "fetch-keys", home="unapproved", want_json=True, expect=REFUSED)
        assert none.get("installed", []) == [], none
        print("   unapproved fetch-keys:", none)

        step("hospital A certifies a sub-authority (cardiology), whose keys verify through hospital A's root")
        c.run("authority", "sub-authority", "--namespace", "hospital_a.cardiology", "--out", c.home("cardiology"),
              home="hospital_a")
        sub = c.run("authority", "init", "--namespace", "hospital_a.cardiology", "--organisation",
                    "hospital_a.cardiology", home="cardiology", want_json=True)
        root_a = c.run("authority", "root-key", home="hospital_a", want_json=True)["root_key"]
        assert sub["root_key"] == root_a, "a sub-authority's trust anchor is its parent's root"
        c.run("authority", "publish", home="cardiology", expect=REFUSED)  # not approved yet
        c.run("admin", "approve", sub["user_id"], home="admin")
        c.run("authority", "publish", home="cardiology")
        c.run("authority", "issue", doc_a, "--attr", "role:cardiologist", home="cardiology")
        got = c.run("doctor", "fetch-keys", home="doctor_a", want_json=True)
        assert "hospital_a.cardiology.role:cardiologist" in got["installed"], got
        status = c.run("doctor", "status", home="doctor_a", want_json=True)
        assert status["state"] == "approved", status
        assert {"hospital_a.cardiology.role:cardiologist", "hospital_a.role:admin", "board.licence:active"} <= \
            set(status["attributes"]), status

        step(f"doctor A registers a patient from {os.path.basename(bundle_path)}")
        reg = c.run("doctor", "register-patient", "--fhir-bundle", bundle_path, home="doctor_a", want_json=True)
        pid, code = reg["patient_id"], reg["enrolment_code"]
        assert reg["resources"] == len(bundle["entry"]), reg
        assert reg["records"] >= 5, reg
        # Human-friendly: groups of base32 with a check character, nothing of the patient in it.
        assert all(ch.isalnum() or ch in "-*~$=" for ch in pid), pid
        for s in identifying_strings(bundle):
            assert s.lower() not in pid.lower()
        c.run("doctor", "view", pid, home="unapproved", expect=REFUSED)
        view_a = c.run("doctor", "view", pid, home="doctor_a", want_json=True)
        # Everything but the researchers' de-identified copies.
        assert sections(view_a, "not accessible") == {"research"}, view_a["entries"]
        assert view_a["tampered"] == 0
        assert len(view_a["resources"]) == len(bundle["entry"]), "doctor A reads everything it wrote"
        imported_sections = sections(view_a, "opened") - {"research"}
        assert {"demographics", "laboratory", "prescriptions"} <= imported_sections, imported_sections

        step("the patient enrols with the one-time code; the code works once")
        code_file = os.path.join(c.dir, "code.txt")
        with open(code_file, "w") as f:
            f.write(code + "\n")
        enrolled = c.run("patient", "enrol", pid, "--code-file", code_file, home="patient", want_json=True)
        assert enrolled["patient_id"] == pid
        assert os.path.getsize(enrolled["device_key"]) == 32
        # Typed by hand, in lower case: the same code, and used already.
        c.run("patient", "enrol", pid, "--code", code.lower(), home="mallory", expect=REFUSED)

        step("a wrong second factor or passphrase does not unlock the patient's keystore")
        wrong_key = os.path.join(c.dir, "wrong-device.key")
        with open(wrong_key, "wb") as f:
            f.write(os.urandom(32))
        _, err = c.run("patient", "view", "--device-key", wrong_key, home="patient", expect=LOCKED)
        assert "passphrase" in err or "second factor" in err, err
        os.rename(enrolled["device_key"], enrolled["device_key"] + ".away")
        c.run("patient", "view", home="patient", expect=LOCKED)
        os.rename(enrolled["device_key"] + ".away", enrolled["device_key"])
        c.run("patient", "view", home="patient", expect=LOCKED, env={"CIPHERCHART_PASSPHRASE": "not it"})

        step("doctor B (hospital B, board keys) views the history and adds a prescription and an ECG")
        doc_b = c.practitioner("doctor_b", "Dr Bob Brown", "hospital_b", "doctor")
        c.approve_and_issue("doctor_b", doc_b, "hospital_b", "doctor")
        view_b = c.run("doctor", "view", pid, home="doctor_b", want_json=True)
        opened_b = sections(view_b, "opened")
        assert {"laboratory", "vital-signs", "prescriptions"} <= opened_b, opened_b
        # Demographics: hospital A's admin and the patient only.
        assert "demographics" in sections(view_b, "not accessible"), view_b["entries"]
        assert not by_type(view_b["resources"], "Patient")
        human, _ = c.run("doctor", "view", pid, home="doctor_b")
        assert "not accessible with your keys" in human and "Dr Alice Adams" in human, human[-2000:]
        added_p = c.run("doctor", "add", pid, "prescription", "--file",
                        os.path.join(args.examples, "prescription.json"), home="doctor_b", want_json=True)
        assert added_p["section"] == "prescriptions", added_p
        added_e = c.run("doctor", "add", pid, "ecg", "--file", os.path.join(args.examples, "ecg.json"),
                        home="doctor_b", want_json=True)
        assert added_e["section"] in {"procedures", "vital-signs", "laboratory"}, added_e
        # A resource that does not fit its kind is refused before anything is written.
        _, err = c.run("doctor", "add", pid, "prescription", "--file", os.path.join(args.examples, "ecg.json"),
                       home="doctor_b", expect=1)
        assert "MedicationRequest" in err, err
        # Imaging with an attachment of any size, streamed into its own record (3 MiB here: more
        # than one server chunk); a marker inside it joins the leakage scan.
        scan = os.path.join(c.dir, "scan.dcm")
        with open(scan, "wb") as f:
            f.write(os.urandom(1 << 20) + ATTACHMENT_MARKER + os.urandom(2 << 20))
        added_i = c.run("doctor", "add", pid, "imaging", "--file", os.path.join(args.examples, "imaging.json"),
                        "--attachment", scan, home="doctor_b", want_json=True)
        assert added_i["section"] == "imaging" and added_i["attachment"]["size"] == os.path.getsize(scan), added_i
        att_id = added_i["attachment"]["record_id"]
        # A batch (a Bundle) is all or nothing: one resource that does not fit and nothing is written.
        mixed = os.path.join(c.dir, "mixed.json")
        with open(mixed, "w") as f:
            json.dump({"resourceType": "Bundle", "type": "collection",
                       "entry": [{"resource": ecg}, {"resource": prescription}]}, f)
        _, err = c.run("doctor", "add", pid, "ecg", "--file", mixed, home="doctor_b", expect=1)
        assert "entry 1" in err, err
        view_b2 = c.run("doctor", "view", pid, home="doctor_b", want_json=True)
        ids = {r.get("id") for r in view_b2["resources"]}
        assert prescription["id"] in ids and ecg["id"] in ids, "doctor B reads back what it added"
        assert len(view_b2["entries"]) == \
            len(view_b["entries"]) + added_p["entries"] + added_e["entries"] + added_i["entries"]
        docref = next(r for r in view_b2["resources"] if r.get("resourceType") == "DocumentReference"
                      and r["content"][0]["attachment"].get("url") == "cipherchart:attachment/" + att_id)
        got = os.path.join(c.dir, "scan-back.dcm")
        c.run("doctor", "attachment", pid, att_id, "--out", got, home="doctor_b")
        assert open(got, "rb").read() == open(scan, "rb").read(), "the attachment comes back byte for byte"
        sha1 = base64.b64encode(hashlib.sha1(open(scan, "rb").read()).digest()).decode()
        assert docref["content"][0]["attachment"]["hash"] == sha1, docref
        authors = {e["author"] for e in view_b2["entries"] if e["state"] == "opened"}
        assert {"Dr Alice Adams", "Dr Bob Brown"} <= authors, authors

        step("a pharmacist reads the prescriptions and nothing else")
        ph = c.practitioner("pharmacist", "Pat Pharmacist", "hospital_b", "pharmacist")
        c.approve_and_issue("pharmacist", ph, "hospital_b", "pharmacist")
        view_p = c.run("doctor", "view", pid, home="pharmacist", want_json=True)
        assert sections(view_p, "opened") == {"prescriptions"}, sections(view_p, "opened")
        refused = sections(view_p, "not accessible")
        assert "laboratory" in refused, refused
        assert "notes" in refused or "notes" not in imported_sections, refused
        assert prescription["id"] in {r.get("id") for r in view_p["resources"]}
        kinds = {r["resourceType"] for r in view_p["resources"]}
        assert kinds <= {"MedicationRequest", "Medication", "MedicationAdministration", "MedicationStatement",
                         "MedicationDispense", "Immunization"}, kinds
        denied = os.path.join(c.dir, "pharmacist-scan.dcm")
        c.run("doctor", "attachment", pid, att_id, "--out", denied, home="pharmacist", expect=REFUSED)
        assert not os.path.exists(denied) and not os.path.exists(denied + ".partial")
        lab_only = c.run("doctor", "view", pid, "--section", "laboratory", home="pharmacist", want_json=True,
                         expect=REFUSED)
        assert lab_only["resources"] == [], lab_only

        step("a family member reads the personal view, and nothing professional")
        fam = c.run("personal", "register", "--name", "Sam Family", home="family", want_json=True)["user_id"]
        c.run("patient", "share", fam, home="patient")
        c.run("personal", "fetch-keys", home="family")
        pv = c.run("personal", "view", home="family", want_json=True)
        types = {r["resourceType"] for v in pv["views"] for r in v["resources"]}
        assert types and types <= {"Observation", "MedicationRequest", "Medication", "MedicationAdministration",
                                   "MedicationStatement", "MedicationDispense", "Immunization"}, types
        assert "MedicationRequest" in types, types
        assert all(r["resourceType"] != "Patient" for v in pv["views"] for r in v["resources"])
        c.run("doctor", "view", pid, home="family", expect=REFUSED)
        c.run("patient", "view", home="family", expect=REFUSED)
        # Unsharing: later views are not made for them.
        before = len(pv["views"])
        c.run("patient", "unshare", fam, home="patient")
        c.run("patient", "resend", home="patient", expect=OK)
        after = c.run("personal", "view", home="family", want_json=True)
        assert len(after["views"]) == before, (before, len(after["views"]))

        step("a researcher reads the de-identified view: no identifier")
        rs = c.practitioner("researcher", "Rita Researcher", "hospital_a", "researcher")
        c.approve_and_issue("researcher", rs, "hospital_a", "researcher")
        view_r = c.run("doctor", "view", pid, home="researcher", want_json=True)
        assert sections(view_r, "opened") == {"research"}, sections(view_r, "opened")
        assert view_r["resources"], "the researcher gets the de-identified copies"
        text = json.dumps(view_r["resources"]).lower()
        p = patient_resource(bundle)
        # Plain JSON, no chance matches: every name part of four letters or more counts.
        needles = identifying_strings(bundle, min_len=4) | {p.get("birthDate", "####")}
        needles |= {e["resource"]["id"] for e in bundle["entry"]}  # resource ids link back
        leaked = [n for n in needles if n.lower() in text]
        assert not leaked, f"the researcher's view holds identifiers: {leaked[:5]}"
        assert not by_type(view_r["resources"], "Patient") or \
            all("name" not in r for r in by_type(view_r["resources"], "Patient"))

        step("the patient views everything and verifies the access log")
        view_pt = c.run("patient", "view", home="patient", want_json=True)
        assert view_pt["not_accessible"] == 0 and view_pt["tampered"] == 0
        assert sections(view_pt, "opened") >= imported_sections | {"prescriptions"}
        assert prescription["id"] in {r.get("id") for r in view_pt["resources"]}
        assert by_type(view_pt["resources"], "Patient"), "the patient reads the demographics"
        # Originals only: the researchers' de-identified copies are not listed beside them (a
        # 206-resource bundle showed 372), unless asked for.
        assert "research" not in {e["section"] for e in view_pt["entries"]}, view_pt["entries"]
        ids = [(r["resourceType"], r.get("id")) for r in view_pt["resources"]]
        assert len(ids) == len(set(ids)), "each resource once in the patient's view"
        view_all = c.run("patient", "view", "--include-research", home="patient", want_json=True)
        assert sections(view_all, "opened") == sections(view_pt, "opened") | {"research"}
        assert len(view_all["resources"]) > len(view_pt["resources"])
        log = c.run("patient", "log", home="patient", want_json=True)
        assert log["verified"] == len(log["entries"]) > 0, log
        users = {e["entry"].get("actor") for e in log["entries"]}
        assert {doc_a, doc_b, ph, rs} <= users, users
        outcomes = {(e["entry"].get("action"), e["entry"].get("outcome")) for e in log["entries"]}
        print("   log:", len(log["entries"]), "entries;", sorted(outcomes)[:12])
        # The next run proves the log only grew since (consistency proof against the pinned head).
        c.run("doctor", "view", pid, home="doctor_b", want_json=True)
        log2 = c.run("patient", "log", home="patient", want_json=True)
        assert log2["tree_size"] > log["tree_size"] and "consistency proof verified" in log2["consistency"], log2
        # A server that showed another history last time (a fork), or changed its audit key, is caught.
        state_path = os.path.join(c.home("patient"), "audit-state.json")
        state = json.load(open(state_path))
        forked = dict(state, root="00" * 32)
        json.dump(forked, open(state_path, "w"))
        _, err = c.run("patient", "log", home="patient", expect=TAMPERED)
        assert "does not extend" in err, err
        json.dump(dict(state, audit_key="11" * 32), open(state_path, "w"))
        _, err = c.run("patient", "log", home="patient", expect=TAMPERED)
        assert "audit key changed" in err, err
        json.dump(state, open(state_path, "w"))
        c.run("patient", "log", home="patient")

        step("leakage scan: every file and table of the server's storage (server stopped)")
        c.stop_server()
        needles = identifying_strings(bundle) | set(clinical_strings(bundle)) | {code}
        needles |= {prescription["medicationCodeableConcept"]["coding"][0]["display"]}
        needles |= {ATTACHMENT_MARKER.decode()}
        hits, scanned = scan_storage(c.data_dir, [os.path.join(c.dir, "server.log")], needles)
        assert not hits, f"patient data on the server: {hits[:10]}"
        print(f"   scanned {scanned['files']} files and {scanned['cells']} cells of {scanned['tables']} tables "
              f"for {len(needles)} strings: none found")
        c.start_server()  # again, on the same data: what it acknowledged is there

        step("a tampered record is detected and reported, not shown")
        db = sqlite3.connect(os.path.join(c.data_dir, "cipherchart.db"))
        # Writers reuse only section keys they made themselves (anyone may seal one and keep a
        # copy): doctor A's import and doctor B's prescription are under one key each.
        keys = db.execute("select author_id, count(distinct record_id) from records where patient_id = ? and "
                          "record_id like 'sk.prescriptions.%' group by author_id", (pid,)).fetchall()
        assert sorted(keys) == sorted([(doc_a, 1), (doc_b, 1)]), keys
        # The sealed personal authority was deleted at enrolment (a tombstone is its latest version).
        latest = db.execute("select tombstone from records where patient_id = ? and record_id = 'owner-authority' "
                            "order by version desc limit 1", (pid,)).fetchone()
        assert latest == (1,), latest
        rows = db.execute("select record_id, blob_id from records where patient_id = ? and section = ? "
                          "and record_id like 'e.%' order by record_id", (pid, "prescriptions")).fetchall()
        assert len(rows) >= 2, rows
        (victim, blob), (other, other_blob) = rows[0], rows[1]
        data = bytearray(db.execute("select data from blob_chunks where blob_id = ? and idx = 0",
                                    (blob,)).fetchone()[0])
        data[len(data) // 2] ^= 0x01
        whole = b"".join(r[0] for r in db.execute("select data from blob_chunks where blob_id = ? order by idx",
                                                   (blob,)))
        whole = bytes(data) + whole[len(data):]
        with db:
            db.execute("update blob_chunks set data = ? where blob_id = ? and idx = 0", (bytes(data), blob))
            db.execute("update records set sha256 = ? where blob_id = ?", (hashlib.sha256(whole).digest(), blob))
        db.close()
        view_t = c.run("doctor", "view", pid, home="pharmacist", want_json=True, expect=TAMPERED)
        bad = [e for e in view_t["entries"] if e["state"] == "tampered"]
        assert [e["record_id"] for e in bad] == [victim], bad
        assert view_t["tampered"] == 1
        shown = {r.get("id") for r in view_t["resources"]}
        assert len(view_t["resources"]) < len(view_p["resources"]), "the tampered entry's resources are not shown"
        _, err = c.run("patient", "view", home="patient", expect=TAMPERED)
        assert "integrity" in err, err
        # A record moved under another record's id (the server replaying an old entry) is also caught.
        db = sqlite3.connect(os.path.join(c.data_dir, "cipherchart.db"))
        with db:
            db.execute("update records set blob_id = ?, sha256 = (select sha256 from records where blob_id = ?), "
                       "size = (select size from records where blob_id = ?) where record_id = ? and patient_id = ?",
                       (other_blob, other_blob, other_blob, victim, pid))
        db.close()
        view_m = c.run("doctor", "view", pid, home="pharmacist", want_json=True, expect=TAMPERED)
        assert [e["record_id"] for e in view_m["entries"] if e["state"] == "tampered"] == [victim]
        assert shown is not None

        # A tampered attachment: one byte of its second server chunk. Nothing is written.
        db = sqlite3.connect(os.path.join(c.data_dir, "cipherchart.db"))
        blob = db.execute("select blob_id from records where patient_id = ? and record_id = ?",
                          (pid, att_id)).fetchone()[0]
        chunks = [bytearray(r[0]) for r in db.execute("select data from blob_chunks where blob_id = ? order by idx",
                                                      (blob,))]
        assert len(chunks) >= 2, len(chunks)
        chunks[1][100] ^= 0x80
        with db:
            db.execute("update blob_chunks set data = ? where blob_id = ? and idx = 1", (bytes(chunks[1]), blob))
            db.execute("update records set sha256 = ? where blob_id = ?",
                       (hashlib.sha256(b"".join(bytes(x) for x in chunks)).digest(), blob))
        db.close()
        bad_out = os.path.join(c.dir, "tampered-scan.dcm")
        _, err = c.run("doctor", "attachment", pid, att_id, "--out", bad_out, home="doctor_b", expect=TAMPERED)
        assert not os.path.exists(bad_out) and not os.path.exists(bad_out + ".partial"), "nothing unverified is left"

        step("done")
        print(f"story_test: all steps passed ({len(c.log)} commands)")


if __name__ == "__main__":
    main()
