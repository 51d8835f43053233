#!/usr/bin/env python3
"""Independent check of the known-answer vectors in this directory against docs/formats.md.

Written from docs/formats.md alone (not from the C++ code), with Python's hashlib and the
`cryptography` package (HKDF, AES-GCM, Ed25519, and Argon2id where the package is new enough;
otherwise libargon2 through ctypes). For every generated vector it
  - opens it: parses the layout, verifies signatures / tags / key commitment, decrypts, and
    compares with the recorded plaintext;
  - re-seals it from the recorded inputs and the documented test RNG and compares byte for byte.
Exits 0 if all pass, 1 on a mismatch, 77 (ctest's "skipped") if `cryptography` is missing.

    python3 src/envelope/testdata/check_vectors.py [DIR]
"""
import hashlib
import os
import struct
import sys

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
except ImportError as e:  # pragma: no cover
    print(f"check_vectors.py: skipped ({e})")
    sys.exit(77)
try:  # cryptography >= 44; Debian 12 ships 38, where libargon2 is called through ctypes instead
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
except ImportError:
    Argon2id = None


def read_vectors(path):
    records, current = [], {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                if current:
                    records.append(current)
                current = {}
                continue
            if line.startswith("#"):
                continue
            key, _, value = line.partition("=")
            current[key.strip()] = value.strip()
    if current:
        records.append(current)
    return records


class TestRng:
    """docs/formats.md, "Known-answer vectors": B_i = SHA-256(label || seed || u64(i))."""

    def __init__(self, seed: bytes):
        self.seed, self.counter, self.buffer = seed, 0, b""

    def take(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self.buffer += hashlib.sha256(
                b"cipherchart/test-rng/v1" + self.seed + struct.pack(">Q", self.counter)).digest()
            self.counter += 1
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out


def hkdf(ikm, salt, info, length=32):
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt or None, info=info).derive(ikm)


def sha256(b):
    return hashlib.sha256(b).digest()


# ---- Stream -----------------------------------------------------------------------------------

def stream_key(key, header, ad):
    return hkdf(key, header[5:37], b"cipherchart/stream/v1" + header + sha256(ad))


def nonce(prefix, i, last):
    return prefix + struct.pack(">I", i) + bytes([1 if last else 0])


def open_stream(key, ad, data):
    assert len(data) >= 44, "stream header truncated"
    header = data[:44]
    assert header[0] == 1, "stream version"
    (segment,) = struct.unpack(">I", header[1:5])
    assert 64 <= segment <= 16 << 20, "segment size bounds"
    aead = AESGCM(stream_key(key, header, ad))
    body, out, i = data[44:], b"", 0
    while True:
        last = len(body) <= segment + 16
        chunk, body = body[:segment + 16], body[segment + 16:]
        assert len(chunk) >= 16, "truncated"
        out += aead.decrypt(nonce(header[37:44], i, last), chunk, None)
        i += 1
        if last:
            return out


def seal_stream(key, ad, plaintext, segment, rng):
    header = bytes([1]) + struct.pack(">I", segment) + rng.take(32) + rng.take(7)
    aead = AESGCM(stream_key(key, header, ad))
    pieces = [plaintext[i:i + segment] for i in range(0, len(plaintext), segment)] or [b""]
    out = header
    for i, piece in enumerate(pieces):
        out += aead.encrypt(nonce(header[37:44], i, i == len(pieces) - 1), piece, None)
    return out


# ---- Envelope ---------------------------------------------------------------------------------

HEADER_SIG_LABEL = b"cipherchart/envelope/v1/header-signature"
FINAL_SIG_LABEL = b"cipherchart/envelope/v1/signature"


def raw_public(key):
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def parse_envelope(env):
    assert env[:4] == b"CCEN" and env[4] == 1
    scheme, = struct.unpack(">H", env[5:7])
    params_id, author = env[7:39], env[39:71]
    version, = struct.unpack(">Q", env[71:79])
    r, = struct.unpack(">H", env[79:81])
    pos = 81
    record_id = env[pos:pos + r]
    pos += r
    p, = struct.unpack(">I", env[pos:pos + 4])
    policy = env[pos + 4:pos + 4 + p]
    pos += 4 + p
    k, = struct.unpack(">I", env[pos:pos + 4])
    kem = env[pos + 4:pos + 4 + k]
    pos += 4 + k
    commitment = env[pos:pos + 32]
    h = pos + 32
    assert h == 121 + r + p + k
    return dict(scheme=scheme, params_id=params_id, author=author, version=version,
                record_id=record_id.decode(), policy=policy.decode(), kem=kem,
                commitment=commitment, header=env[:h], header_sig=env[h:h + 64],
                stream=env[h + 64:-64], signature=env[-64:])


def open_envelope(env, kem_key, expected_author, record_id, version):
    e = parse_envelope(env)
    author = Ed25519PublicKey.from_public_bytes(e["author"])
    author.verify(e["header_sig"], HEADER_SIG_LABEL + sha256(e["header"]))
    assert e["author"] == expected_author and e["record_id"] == record_id and e["version"] == version
    author.verify(e["signature"], FINAL_SIG_LABEL + sha256(env[:-64]))
    assert hkdf(kem_key, b"", b"cipherchart/envelope/v1/key-commitment") == e["commitment"]
    payload_key = hkdf(kem_key, b"", b"cipherchart/envelope/v1/payload-key")
    return e, open_stream(payload_key, sha256(e["header"]), e["stream"])


def seal_envelope(v, rng):
    author = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["AuthorSeed"]))
    kem_key = bytes.fromhex(v["KemKey"])
    record_id, policy, kem = (bytes.fromhex(v["RecordId"]), bytes.fromhex(v["Policy"]),
                              bytes.fromhex(v["KemCiphertext"]))
    header = (b"CCEN" + bytes([1]) + struct.pack(">H", int(v["SchemeId"])) + bytes.fromhex(v["PublicParamsId"])
              + raw_public(author.public_key()) + struct.pack(">Q", int(v["RecordVersion"]))
              + struct.pack(">H", len(record_id)) + record_id + struct.pack(">I", len(policy)) + policy
              + struct.pack(">I", len(kem)) + kem + hkdf(kem_key, b"", b"cipherchart/envelope/v1/key-commitment"))
    body = header + author.sign(HEADER_SIG_LABEL + sha256(header))
    body += seal_stream(hkdf(kem_key, b"", b"cipherchart/envelope/v1/payload-key"), sha256(header),
                        bytes.fromhex(v["Payload"]), int(v["SegmentSize"]), rng)
    return body + author.sign(FINAL_SIG_LABEL + sha256(body))


# ---- Passphrase seal --------------------------------------------------------------------------

def argon2id(passphrase, salt, m, t, p):
    if Argon2id is not None:
        return Argon2id(salt=salt, length=32, iterations=t, lanes=p, memory_cost=m).derive(passphrase)
    import ctypes
    import ctypes.util
    lib = ctypes.CDLL(ctypes.util.find_library("argon2") or "libargon2.so.1")
    out = ctypes.create_string_buffer(32)
    rc = lib.argon2id_hash_raw(ctypes.c_uint32(t), ctypes.c_uint32(m), ctypes.c_uint32(p), passphrase,
                               ctypes.c_size_t(len(passphrase)), salt, ctypes.c_size_t(len(salt)), out,
                               ctypes.c_size_t(32))
    assert rc == 0, f"argon2id_hash_raw failed: {rc}"
    return out.raw


def open_sealed(blob, passphrase, purpose):
    assert blob[:4] == b"CCPS" and blob[4] == 1
    m, t, p = struct.unpack(">III", blob[5:17])
    salt, iv = blob[17:33], blob[33:45]
    n, = struct.unpack(">I", blob[45:49])
    assert len(blob) == 49 + n + 16
    return AESGCM(argon2id(passphrase, salt, m, t, p)).decrypt(iv, blob[49:], blob[:49] + purpose)


def seal_sealed(v, rng):
    m, t, p = int(v["MemoryKiB"]), int(v["Iterations"]), int(v["Parallelism"])
    secret = bytes.fromhex(v["Secret"])
    salt, iv = rng.take(16), rng.take(12)
    header = b"CCPS" + bytes([1]) + struct.pack(">III", m, t, p) + salt + iv + struct.pack(">I", len(secret))
    key = argon2id(bytes.fromhex(v["Passphrase"]), salt, m, t, p)
    return header + AESGCM(key).encrypt(iv, secret, header + bytes.fromhex(v["Purpose"]))


# ---- main -------------------------------------------------------------------------------------

def main():
    here = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    failures, checked = [], 0

    def check(name, condition):
        nonlocal checked
        checked += 1
        if not condition:
            failures.append(name)

    rng_vector = read_vectors(os.path.join(here, "test_rng_vectors.txt"))[0]
    check("test rng", TestRng(rng_vector["Seed"].encode()).take(40).hex() == rng_vector["Output"])

    for v in read_vectors(os.path.join(here, "hkdf_sha256_rfc5869.txt")):
        okm = hkdf(bytes.fromhex(v["IKM"]), bytes.fromhex(v["Salt"]), bytes.fromhex(v["Info"]), int(v["L"]))
        check("RFC 5869 " + v["OKM"][:8], okm.hex() == v["OKM"])

    for v in read_vectors(os.path.join(here, "ed25519_rfc8032.txt")):
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["SecretKey"]))
        check("RFC 8032 " + v["PublicKey"][:8], key.sign(bytes.fromhex(v["Message"])).hex() == v["Signature"])

    for v in read_vectors(os.path.join(here, "stream_vectors.txt")):
        key, ad, stream = bytes.fromhex(v["Key"]), bytes.fromhex(v["AD"]), bytes.fromhex(v["Stream"])
        check("stream open: " + v["Name"], open_stream(key, ad, stream).hex() == v["Plaintext"])
        resealed = seal_stream(key, ad, bytes.fromhex(v["Plaintext"]), int(v["SegmentSize"]),
                               TestRng(v["Seed"].encode()))
        check("stream seal: " + v["Name"], resealed == stream)

    for v in read_vectors(os.path.join(here, "envelope_vectors.txt")):
        env = bytes.fromhex(v["Envelope"])
        e, payload = open_envelope(env, bytes.fromhex(v["KemKey"]), bytes.fromhex(v["AuthorPublicKey"]),
                                   bytes.fromhex(v["RecordId"]).decode(), int(v["RecordVersion"]))
        check("envelope open: " + v["Name"], payload.hex() == v["Payload"] and e["scheme"] == int(v["SchemeId"]))
        check("envelope seal: " + v["Name"], seal_envelope(v, TestRng(v["Seed"].encode())) == env)

    for v in read_vectors(os.path.join(here, "passphrase_seal_vectors.txt")):
        blob = bytes.fromhex(v["Blob"])
        secret = open_sealed(blob, bytes.fromhex(v["Passphrase"]), bytes.fromhex(v["Purpose"]))
        check("seal open: " + v["Name"], secret.hex() == v["Secret"])
        check("seal seal: " + v["Name"], seal_sealed(v, TestRng(v["Seed"].encode())) == blob)

    for name in failures:
        print("check_vectors.py: MISMATCH:", name)
    print(f"check_vectors.py: {checked - len(failures)}/{checked} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
