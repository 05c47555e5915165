#!/usr/bin/env python3
"""Writes the seed inputs of fuzz_rx.c (see its header for the script format) into fuzz/corpus/."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")
VECTOR = (b'{"mqimg":3,"id":"0123456789abcdef","nonce":"404142434445464748494a4b4c4d4e4f","name":"vector.bin",'
          b'"type":"image/png","size":200,"chunkBytes":64,"chunks":4,"sha256":'
          b'"1901da1c9f699b48f6b2636e65cbf73abf99d0441ef67f5c540a42f7051dec6f","pages":"l+fci+tipV4nTO1v5HgaRg==",'
          b'"width":10,"height":5,"createdMs":1767225600000}')


def op(code, *parts):
    return bytes([code]) + b"".join(parts)


def u16(v):
    return struct.pack(">H", v)


def blob(b):
    return u16(len(b)) + b


seeds = {
    # A whole, in order
    "a-in-order": op(0) + op(2, b"\0") + b"".join(op(4, bytes([n])) for n in range(4)),
    # A with a gap, repairs, heartbeat, completion, final repeats
    "a-gap": op(0) + op(2, b"\0") + op(4, b"\0") + op(4, b"\2") + op(6, u16(30)) + op(6, u16(600)) + op(4, b"\1")
    + op(4, b"\3") + op(0) + op(4, b"\3") + op(6, u16(700)) + op(4, b"\3"),
    # B: chunks before pages, out of order, polls in between
    "b-early-chunks": op(10) + b"".join(op(14, bytes([n])) + op(16, u16(7)) for n in (46, 3, 9, 0, 1, 2))
    + b"".join(op(12, bytes([j])) for j in range(12)) + b"".join(op(14, bytes([n])) for n in range(47)),
    # forged pages and chunks, wrong lengths, out of range
    "a-forged": op(0) + op(3, b"\0", blob(b"\x11" * 64)) + op(3, b"\5", blob(b"\x11" * 16)) + op(2, b"\0")
    + op(5, u16(1), blob(b"\x22" * 64)) + op(5, u16(9), blob(b"\x22" * 64)) + op(5, u16(3), blob(b"\x22" * 64))
    + b"".join(op(4, bytes([n])) for n in range(4)),
    # manifests: the vector with extra fields, escapes, broken JSON, other versions (2 too), sealed, epk
    "manifests": op(1, blob(VECTOR[:-1] + b',"x":{"a":[1,2.5e3,null,true,{"b":"\\u00e9\\ud83d\\ude00"}]}}'))
    + op(1, blob(b'{"mqimg":1}')) + op(1, blob(b'{"mqimg":3,"enc":{"alg":"aes-256-gcm"},"id":"0123456789abcdef"}'))
    + op(1, blob(b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"))
    + op(1, blob(VECTOR.replace(b'"chunks":4', b'"chunks":5')))
    + op(1, blob(VECTOR.replace(b'"mqimg":3', b'"mqimg":2')))
    + op(1, blob(VECTOR[:-1] + b',"epk":"ST6C/HRGSlkmiBdiPSBTxeuOLMSpiLT+4XnsawENUx0="}'))
    + op(1, blob(VECTOR[:-1] + b',"epk":"ST6C/HRGSlkmiBdiPSBTxeuOLMSpiLT+4XnsawENUx0"}'))
    + op(1, blob(VECTOR)) + op(2, b"\0"),
    # mutated manifests
    "mutations": b"".join(op(9, u16(p), bytes([c])) for p, c in ((10, ord("3")), (40, ord("Z")), (200, ord("}")))),
    # retained, then B superseding A, then idle give-up and timeout
    "retained-supersede": op(8, blob(VECTOR)) + op(2, b"\0") + op(4, b"\0") + op(10) + op(6, u16(2100)) + op(10)
    + op(6, u16(40000)) + op(6, u16(40000)),
    # signed manifest with its key trusted, then the transfer; and A unsigned (refused)
    "signed": b"\xff" + op(20) + op(2, b"\0") + b"".join(op(4, bytes([n])) for n in range(4)) + op(0) + op(20),
    # a named receiver (0xfe): B names it (epk), so its statuses are sealed; B whole with a gap, then repeats
    # (the first byte is also read as an op >= 200, whose 4 argument bytes are these zeros: a piece of nothing)
    "named": b"\xfe\0\0\0\0" + op(10) + b"".join(op(12, bytes([j])) for j in range(12))
    + b"".join(op(14, bytes([n])) for n in range(47) if n != 5) + op(16, u16(30)) + op(14, b"\5") + op(10)
    + op(16, u16(700)) + op(14, b"\1"),
    # pages and chunks in pieces, damaged ones too
    "pieces": op(0) + op(200, b"\x03\0\x09\x05") + op(200, b"\x00\x02\x06\x00") + op(200, b"\x02\0\x0a\x00")
    + op(200, b"\x01\x01\x0f\x21") + b"".join(op(200, bytes([0, n, 12, 0])) for n in range(4)),
    # other topics
    "topics": op(7, bytes([len(b"cam/1/mqimg/0123456789abcdef/c/01")]) + b"cam/1/mqimg/0123456789abcdef/c/01",
                 blob(b"x" * 64))
    + op(7, bytes([len(b"mqimg/0123456789abcdef/m")]) + b"mqimg/0123456789abcdef/m", blob(VECTOR))
    + op(7, bytes([len(b"a/mqimg/0123456789abcdef/h/999999999")]) + b"a/mqimg/0123456789abcdef/h/999999999",
         blob(b"y"))
    + op(7, bytes([len(b"a/b/mqimg/00000000000000e1/c/3")]) + b"a/b/mqimg/00000000000000e1/c/3", blob(b"z")),
}

os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"wrote {len(seeds)} seeds to {OUT}")
