#!/usr/bin/env python3
"""Setup helper for scripts/bench-server: talks to a running `cipherchart server run` through the
real /v1 API (TLS, pinned self-signed certificate) and prints JSON on stdout.

  bench_server_setup.py keygen SEED_FILE
      Writes a fresh Ed25519 seed (hex) to SEED_FILE (mode 0600) and prints
      {"identity_key": hex, "delivery_key": hex} for `cipherchart server add-admin`.

  bench_server_setup.py setup --port N --ca CERT --admin-id ID --admin-seed SEED_FILE [--record-size 4096]
      Logs the server admin in; registers an authority admin (approved by the server admin) and a
      practitioner of its organisation (approved by the authority admin); the practitioner creates
      a patient and uploads one record (version 1) of --record-size random bytes. Prints
      {"token", "patient_id", "record_id", "record_path", "upload_path_prefix", "user_id"}:
      the practitioner's session token, which may fetch and append that patient's records.

  bench_server_setup.py metrics --port N --ca CERT
      Prints the server's /metrics text (Prometheus) on stdout.

Only the standard library and python3-cryptography are used.
"""

import argparse
import hashlib
import http.client
import json
import os
import ssl
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

LOGIN_DOMAIN = b"CIPHERCHART-LOGIN-V1"


class ApiError(Exception):
    pass


def raw_public(key):
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def raw_seed(key):
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


class Api:
    """One keep-alive HTTPS connection to the server, verifying its pinned certificate."""

    def __init__(self, port, ca):
        ctx = ssl.create_default_context(cafile=ca)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self.conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)

    def call(self, method, path, body=None, token=None, content_type=None, headers=None, expect=(200, 201)):
        h = dict(headers or {})
        data = None
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        elif body is not None:
            data = body
            h["Content-Type"] = content_type or "application/octet-stream"
        if token:
            h["Authorization"] = "Bearer " + token
        self.conn.request(method, path, body=data, headers=h)
        resp = self.conn.getresponse()
        payload = resp.read()
        if resp.status not in expect:
            raise ApiError(f"{method} {path}: HTTP {resp.status}: {payload[:300].decode(errors='replace')}")
        ctype = resp.getheader("Content-Type", "")
        if ctype.startswith("application/json"):
            return json.loads(payload)
        return payload


def login(api, user_id, key):
    challenge = api.call("POST", "/v1/auth/challenge", {"user_id": user_id}, expect=(201,))["challenge"]
    message = LOGIN_DOMAIN + bytes.fromhex(challenge) + user_id.encode()
    signature = key.sign(message).hex()
    reply = api.call("POST", "/v1/auth/login",
                     {"user_id": user_id, "challenge": challenge, "signature": signature}, expect=(201,))
    return reply["token"]


def register(api, role, organisation=None, details=None):
    key = Ed25519PrivateKey.generate()
    delivery = Ed25519PrivateKey.generate()  # any 32 bytes do for the bench: it is never used
    body = {"role": role, "identity_key": raw_public(key).hex(), "delivery_key": raw_public(delivery).hex()}
    if organisation:
        body["organisation"] = organisation
    if details:
        body["details"] = details
    user_id = api.call("POST", "/v1/accounts", body, expect=(201,))["user_id"]
    return user_id, key


def cmd_keygen(args):
    key = Ed25519PrivateKey.generate()
    fd = os.open(args.seed_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(raw_seed(key).hex() + "\n")
    delivery = Ed25519PrivateKey.generate()
    print(json.dumps({"identity_key": raw_public(key).hex(), "delivery_key": raw_public(delivery).hex()}))


def cmd_setup(args):
    with open(args.admin_seed) as f:
        admin_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(f.read().strip()))
    api = Api(args.port, args.ca)
    admin_token = login(api, args.admin_id, admin_key)

    org = "bench-hospital"
    authority_id, authority_key = register(api, "authority-admin", org, {"name": "bench authority admin"})
    api.call("POST", f"/v1/registrations/{authority_id}/approve", {}, token=admin_token)
    authority_token = login(api, authority_id, authority_key)

    details = {"name": "Dr Bench", "licence": "LIC-BENCH", "practice_start": "2015-01-01",
               "practice_end": "2030-12-31"}
    doctor_id, doctor_key = register(api, "practitioner", org, details)
    api.call("POST", f"/v1/registrations/{doctor_id}/approve", {}, token=authority_token)
    token = login(api, doctor_id, doctor_key)
    me = api.call("GET", "/v1/accounts/me", token=token)
    if me.get("state") != "approved":
        raise ApiError(f"the practitioner is {me.get('state')!r}, not approved")

    code = os.urandom(16).hex()
    patient_id = api.call("POST", "/v1/patients", {"enrolment_code_sha256": hashlib.sha256(code.encode()).hexdigest()},
                          token=token, expect=(201,))["patient_id"]

    record_id = "bench-record"
    body = os.urandom(args.record_size)
    put = api.call("PUT", f"/v1/patients/{patient_id}/records/{record_id}/versions/1", body, token=token,
                   headers={"X-CipherChart-Section": "vital-signs", "X-CipherChart-Policy": "doctor"},
                   expect=(201,))
    if put.get("size") != len(body) or put.get("sha256") != hashlib.sha256(body).hexdigest():
        raise ApiError(f"the upload was acknowledged with {put}, not size {len(body)} and its SHA-256")
    record_path = f"/v1/patients/{patient_id}/records/{record_id}"
    fetched = api.call("GET", record_path, token=token)
    if fetched != body:
        raise ApiError(f"GET {record_path} returned {len(fetched)} bytes that differ from the upload")

    print(json.dumps({"token": token, "user_id": doctor_id, "patient_id": patient_id, "record_id": record_id,
                      "record_path": record_path, "upload_path_prefix": f"/v1/patients/{patient_id}/records/"}))


def cmd_metrics(args):
    api = Api(args.port, args.ca)
    text = api.call("GET", "/metrics")
    sys.stdout.write(text.decode() if isinstance(text, bytes) else json.dumps(text))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    k = sub.add_parser("keygen", help="write an Ed25519 seed for the first server admin")
    k.add_argument("seed_file")
    s = sub.add_parser("setup", help="create the bench users, patient and record through the API")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--ca", required=True, help="the server's certificate (DATA_DIR/tls.crt)")
    s.add_argument("--admin-id", required=True)
    s.add_argument("--admin-seed", required=True, help="file written by 'keygen'")
    s.add_argument("--record-size", type=int, default=4096)
    m = sub.add_parser("metrics", help="print GET /metrics")
    m.add_argument("--port", type=int, required=True)
    m.add_argument("--ca", required=True)
    args = p.parse_args()
    try:
        {"keygen": cmd_keygen, "setup": cmd_setup, "metrics": cmd_metrics}[args.command](args)
    except (ApiError, OSError, ssl.SSLError, http.client.HTTPException, ValueError, KeyError) as e:
        print(f"bench_server_setup.py {args.command}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
