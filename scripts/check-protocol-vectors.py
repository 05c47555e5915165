#!/usr/bin/env python3
"""An implementation of PROTOCOL.md sections 11 to 13, independent of mqimg's TypeScript (Python's hashlib and
the `cryptography` package), written from the document alone. It recomputes the test vectors and checks that
PROTOCOL.md quotes the same values: evidence that the document, not just the code, defines the wire format.
Run: python3 scripts/check-protocol-vectors.py   (pip install cryptography, if missing)."""
import base64, hashlib, hmac, json, pathlib, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

doc = (pathlib.Path(__file__).parent.parent / "PROTOCOL.md").read_text()
data = bytes(range(200))
sha = hashlib.sha256(data).hexdigest()
plain_id = hashlib.sha256(f"{sha}:64:cam/1".encode()).hexdigest()[:16]
checks = []

# Section 12: signing.
key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
pub = key.public_key().public_bytes_raw()
kid = hashlib.sha256(pub).hexdigest()[:16]
lines = ["mqimg-sig-v1", "cam/1", plain_id, "vector.bin", "image/png", "200", "64", "4", sha, "10", "5",
         "1767225600000", "", "", "0", kid]
signature = base64.b64encode(key.sign("\n".join(lines).encode())).decode()
checks += [pub.hex(), kid, signature]

# Section 13: encryption.
secret = bytes(range(0x20, 0x40))
salt = bytes(range(0xA0, 0xB0))
checks.append(hashlib.sha256(b"mqimg-secret-id\0" + secret).hexdigest()[:16])
sealed_id = hmac.new(secret, f"{sha}:64:cam/1".encode(), hashlib.sha256).hexdigest()[:16]
transfer_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt,
                    info=f"mqimg-enc-v1 {sealed_id}".encode()).derive(secret)
checks += [sealed_id, transfer_key.hex()]
gcm = AESGCM(transfer_key)
nonce = lambda kind, index: kind.to_bytes(4, "big") + index.to_bytes(8, "big")
for n in range(4):
    checks.append(gcm.encrypt(nonce(0, n), data[n * 64:(n + 1) * 64], sealed_id.encode()).hex())
meta = {"mqimg": 1, "id": sealed_id, "name": "vector.bin", "type": "image/png", "size": 200, "chunkBytes": 64,
        "chunks": 4, "sha256": sha, "width": 10, "height": 5, "createdMs": 1767225600000}
sealed_meta = gcm.encrypt(nonce(1, 0), json.dumps(meta, separators=(",", ":")).encode(), sealed_id.encode())
checks.append(base64.b64encode(sealed_meta).decode())

missing = [c for c in checks if c not in doc]
for c in checks:
    print(("ok      " if c in doc else "MISSING ") + c)
sys.exit(1 if missing else 0)
