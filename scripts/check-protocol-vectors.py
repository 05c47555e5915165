#!/usr/bin/env python3
"""An implementation of PROTOCOL.md (version 3) sections 5 to 13, independent of mqimg's TypeScript (Python's
hashlib, hmac, base64 and the `cryptography` package), written from the document alone. It recomputes every test
vector (manifest, chunk hashes, hash pages, `pages`, statuses, proof of receipt, signing text and signature, sealed
manifest, pages and chunks, sealed statuses, named receivers' keys and sealed statuses) and checks that PROTOCOL.md quotes the same values: evidence that the document, not
just the code, defines the wire format.
Run: python3 scripts/check-protocol-vectors.py   (pip install cryptography, or apt-get install python3-cryptography)."""
import base64
import hashlib
import hmac
import json
import pathlib
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

doc = (pathlib.Path(__file__).parent.parent / "PROTOCOL.md").read_text()
checks = []  # (what, text that PROTOCOL.md must contain)


def check(what, text):
    checks.append((what, text))


def compact(value):
    """Compact JSON, as the document's examples are written (key order as built)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def short_hash(data):
    """The first 16 bytes of SHA-256 (section 6.2)."""
    return hashlib.sha256(data).digest()[:16]


def chunks_of(data, chunk_bytes):
    """Section 6.1: chunk N is bytes [N * chunkBytes, min(size, (N + 1) * chunkBytes))."""
    return [data[i:i + chunk_bytes] for i in range(0, len(data), chunk_bytes)]


def hash_pages(data, chunk_bytes):
    """Section 6.2: H hashes per page, pages of concatenated chunk hashes, and the manifest's `pages` field."""
    per_page = chunk_bytes // 16
    hashes_ = [short_hash(c) for c in chunks_of(data, chunk_bytes)]
    pages = [b"".join(hashes_[j:j + per_page]) for j in range(0, len(hashes_), per_page)]
    assert len(pages) <= 128
    field = base64.b64encode(b"".join(short_hash(p) for p in pages)).decode()
    return hashes_, pages, field


# Section 11: the file, the fixed id and nonce, the manifest.
TOPIC = "cam/1"
CHUNK_BYTES = 64
CREATED_MS = 1767225600000
ID = "0123456789abcdef"
NONCE = bytes(range(0x40, 0x50))
RX = "rx-1a2b3c4d"
data = bytes(range(200))
sha = hashlib.sha256(data).hexdigest()
chunk_hashes, pages, pages_field = hash_pages(data, CHUNK_BYTES)
chunks = chunks_of(data, CHUNK_BYTES)
assert len(chunks) == -(-len(data) // CHUNK_BYTES) == 4


def manifest_of(name, content, pages_value):
    # Field order of the table in section 5 (the order mqimg writes).
    return {"mqimg": 3, "id": ID, "nonce": NONCE.hex(), "name": name, "type": "image/png", "size": len(content),
            "chunkBytes": CHUNK_BYTES, "chunks": -(-len(content) // CHUNK_BYTES),
            "sha256": hashlib.sha256(content).hexdigest(), "pages": pages_value, "width": 10, "height": 5,
            "createdMs": CREATED_MS}


manifest = manifest_of("vector.bin", data, pages_field)
manifest_json = compact(manifest)
check("ID and nonce", f"`ID` = `{ID}`, `nonce` = `{NONCE.hex()}`")
check("sha256", f"`sha256` = `{sha}`")
check("manifest", "```json\n" + manifest_json + "\n```")
check("manifest topic", f"`{TOPIC}/mqimg/{ID}/m`")
check("page topic", f"`{TOPIC}/mqimg/{ID}/h/0`")
check("status topic", f"`{TOPIC}/mqimg/{ID}/r`")
for n, (chunk, h) in enumerate(zip(chunks, chunk_hashes)):
    check(f"chunk {n} and its hash", f"| {n} | {len(chunk)} | `{chunk.hex()}` | `{h.hex()}` |")
assert len(pages) == 1
check("hash page 0", f"`{pages[0].hex()}`")
check("pages", f"= `{pages_field}`")

# The two-page example: 300 bytes, byte i = i mod 256.
two = bytes(i & 0xFF for i in range(300))
_, two_pages, two_field = hash_pages(two, CHUNK_BYTES)
assert [len(p) for p in two_pages] == [64, 16]
check("two pages: page 0", f"- page 0: `{two_pages[0].hex()}`")
check("two pages: page 1", f"- page 1: `{two_pages[1].hex()}`")
check("two pages: pages", f"- `pages` = `{two_field}`")
check("two pages: manifest", "```json\n" + compact(manifest_of("two-pages.bin", two, two_field)) + "\n```")

# Section 5: the largest transfers per chunk size (128 pages of floor(chunkBytes / 16) hashes).
for chunk_bytes in (64, 256, 1024, 4096):
    check(f"most chunks at {chunk_bytes}", f"| {chunk_bytes:,} | {128 * (chunk_bytes // 16):,} |")

# Section 7: statuses, with mqimg's window for one transfer of 64-byte chunks (section 8.2).
win = max(4, min(768 // 1, (16 * 1024 * 1024) // CHUNK_BYTES))
check("join status", compact({"rx": RX, "state": "receiving", "next": 0, "high": -1, "win": win}))
check("gap status", compact({"rx": RX, "state": "receiving", "next": 1, "high": 2, "win": win,
                             "missing": [[1, 1]]}))
check("want-manifest status", compact({"rx": RX, "state": "want-manifest"}))
# Section 7.1: the proof of receipt, from each chunk's whole SHA-256.
acc = bytes(32)
for n, chunk in enumerate(chunks):
    digest = hashlib.sha256(chunk).digest()
    tag = hashlib.sha256(NONCE + n.to_bytes(4, "big") + digest).digest()
    check(f"chunk {n} digest and tag", f"| {n} | `{digest.hex()}` | `{tag.hex()}` |")
    acc = bytes(a ^ b for a, b in zip(acc, tag))
check("proof accumulator", f"XOR of the four tags: `{acc.hex()}`")


def proof_for(rx):
    return hmac.new(NONCE, b"mqimg-proof-v3" + acc + rx.encode(), hashlib.sha256).hexdigest()


proof = proof_for(RX)
check("proof of receipt", f"`rx-1a2b3c4d`) = `{proof}`")
check("complete status", compact({"rx": RX, "state": "complete", "next": 4, "proof": proof}))

# Section 12: signing.
key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
kid = hashlib.sha256(pub).hexdigest()[:16]
lines = ["mqimg-sig-v3", TOPIC, ID, "vector.bin", "image/png", "200", "64", "4", sha, NONCE.hex(), pages_field,
         "10", "5", str(CREATED_MS), "", "", "0", "", kid]
assert len(lines) == 19
signature = base64.b64encode(key.sign("\n".join(lines).encode())).decode()
check("public key and key id", f"`{pub.hex()}`; key id `{kid}`")
check("signing text", "\n".join("    " + line for line in lines))
check("signature", f"`sig.value` is `{signature}`")
signed = dict(manifest, sig={"alg": "ed25519", "kid": kid, "value": signature})
check("signed manifest", "```json\n" + compact(signed) + "\n```")

# Section 13: encryption.
secret = bytes(range(0x20, 0x40))
salt = bytes(range(0xA0, 0xB0))
secret_kid = hashlib.sha256(b"mqimg-secret-id\0" + secret).hexdigest()[:16]
check("secret id", f"secret id `{secret_kid}`")
transfer_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt,
                    info=f"mqimg-enc-v2 {ID} {TOPIC}".encode()).derive(secret)
check("transfer key", f"transfer key =\n`{transfer_key.hex()}`")
gcm = AESGCM(transfer_key)


def gcm_nonce(kind, index):
    return kind.to_bytes(4, "big") + index.to_bytes(8, "big")


aad = ID.encode()
sealed_page = gcm.encrypt(gcm_nonce(2, 0), pages[0], aad)
assert len(sealed_page) == 80
check("sealed page 0", f"| 0 | `{sealed_page.hex()}` |")
for n, chunk in enumerate(chunks):
    check(f"sealed chunk {n}", f"| {n} | `{gcm.encrypt(gcm_nonce(0, n), chunk, aad).hex()}` |")
meta = base64.b64encode(gcm.encrypt(gcm_nonce(1, 0), manifest_json.encode(), aad)).decode()
hidden = {"name", "type", "sha256", "width", "height", "pixelFormat", "stride", "sig", "nonce", "pages"}
sealed = {k: v for k, v in manifest.items() if k not in hidden}
sealed["enc"] = {"alg": "aes-256-gcm", "kid": secret_kid, "salt": base64.b64encode(salt).decode(), "meta": meta}
check("sealed manifest", "```json\n" + compact(sealed) + "\n```")

# Section 13.1: a sealed status.
STATUS_NONCE = bytes(range(0xB0, 0xBC))
status_key = hmac.new(transfer_key, b"mqimg-status-v2", hashlib.sha256).digest()
check("status key", f"status key `{status_key.hex()}`")


def seal_status(key_, status):
    body = compact(status).encode()
    sealed_ = AESGCM(key_).encrypt(STATUS_NONCE, body, f"{ID}\n{status['rx']}".encode())
    return compact({"rx": status["rx"], "sealed": base64.b64encode(STATUS_NONCE + sealed_).decode()})


join = {"rx": RX, "state": "receiving", "next": 0, "high": -1, "win": win}
check("sealed join status", "```json\n" + seal_status(status_key, join) + "\n```")

# Section 12.1: a named receiver.
P = 2**255 - 19
receiver = Ed25519PrivateKey.from_private_bytes(bytes(range(0x60, 0x80)))
receiver_pub = receiver.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
receiver_kid = hashlib.sha256(receiver_pub).hexdigest()[:16]
named_rx = "k-" + receiver_kid
y = int.from_bytes(receiver_pub, "little") & ((1 << 255) - 1)
u = (1 + y) * pow((1 - y) % P, P - 2, P) % P
x_pub = u.to_bytes(32, "little")
x_priv = hashlib.sha512(bytes(range(0x60, 0x80))).digest()[:32]
assert X25519PrivateKey.from_private_bytes(x_priv).public_key().public_bytes(
    serialization.Encoding.Raw, serialization.PublicFormat.Raw) == x_pub
ephemeral = X25519PrivateKey.from_private_bytes(bytes(range(0x80, 0xA0)))
epk = ephemeral.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(x_pub))
assert shared == X25519PrivateKey.from_private_bytes(x_priv).exchange(X25519PublicKey.from_public_bytes(epk))
named_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=NONCE,
                 info=f"mqimg-rx-v3 {ID} {named_rx}".encode()).derive(shared)
check("named receiver keys", f"`{receiver_pub.hex()}`, key id `{receiver_kid}`, receiver id `{named_rx}`")
check("named receiver X25519 keys", f"`{x_priv.hex()}`, public key `{x_pub.hex()}`")
check("epk", f"`epk` = `{epk.hex()}`")
check("named manifest", "```json\n" + compact(dict(manifest, epk=base64.b64encode(epk).decode())) + "\n```")
check("shared secret and status key", f"Shared secret `{shared.hex()}`; status key `K` = `{named_key.hex()}`")
named_complete = {"rx": named_rx, "state": "complete", "next": 4, "proof": proof_for(named_rx)}
check("named proof", f"`{named_rx}` = `{proof_for(named_rx)}`")
check("named complete, sealed", "```json\n" + seal_status(named_key, named_complete) + "\n```")

failed = [what for what, text in checks if text not in doc]
for what, text in checks:
    shown = text if len(text) <= 100 else text[:97] + "..."
    print(("ok      " if text in doc else "MISSING ") + what + ": " + shown.replace("\n", "\\n"))
print(f"{len(checks) - len(failed)} of {len(checks)} vectors recomputed and found in PROTOCOL.md")
sys.exit(1 if failed else 0)
