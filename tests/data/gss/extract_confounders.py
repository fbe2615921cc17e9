#!/usr/bin/python3
"""Recover the confounders of MIT's sealed Wrap tokens in tests/data/mit-capture, using
MIT krb5's own libkrb5 (krb5_c_decrypt_iov returns the confounder in the HEADER iov).

The test tests/gss_tokens.rs re-encrypts each message with that confounder and requires
our token to equal MIT's byte for byte.  Output: confounders.txt, one line per token:
"<case> <file> <usage> <confounder hex>".  Run from the repository root:
    /usr/bin/python3 tests/data/gss/extract_confounders.py > tests/data/gss/confounders.txt
"""
import ctypes
import os
import re
import sys

lib = ctypes.CDLL("libkrb5.so.3")


class Data(ctypes.Structure):
    _fields_ = [("magic", ctypes.c_int32), ("length", ctypes.c_uint), ("data", ctypes.c_void_p)]


class Iov(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_int32), ("data", Data)]


class Keyblock(ctypes.Structure):
    _fields_ = [("magic", ctypes.c_int32), ("enctype", ctypes.c_int32),
                ("length", ctypes.c_uint), ("contents", ctypes.c_void_p)]


HEADER, DATA, TRAILER = 1, 2, 5
ENCTYPES = {"aes128-cts-hmac-sha1-96": 17, "aes256-cts-hmac-sha1-96": 18,
            "aes128-cts-hmac-sha256-128": 19, "aes256-cts-hmac-sha384-192": 20}
MAC_LEN = {17: 12, 18: 12, 19: 16, 20: 24}

ctx = ctypes.c_void_p()
assert lib.krb5_init_context(ctypes.byref(ctx)) == 0


def decrypt_confounder(enctype, key, usage, ciphertext):
    kbuf = ctypes.create_string_buffer(key, len(key))
    kb = Keyblock(0, enctype, len(key), ctypes.cast(kbuf, ctypes.c_void_p))
    mac = MAC_LEN[enctype]
    parts = [(HEADER, ciphertext[:16]), (DATA, ciphertext[16:-mac]), (TRAILER, ciphertext[-mac:])]
    bufs = [ctypes.create_string_buffer(p, len(p)) for _, p in parts]
    iovs = (Iov * 3)(*[Iov(f, Data(0, len(p), ctypes.cast(b, ctypes.c_void_p)))
                       for (f, p), b in zip(parts, bufs)])
    ret = lib.krb5_c_decrypt_iov(ctx, ctypes.byref(kb), usage, None, iovs, 3)
    if ret != 0:
        raise SystemExit(f"decrypt failed: {ret}")
    return bufs[0].raw[:16], bufs[1].raw


def keys(info):
    ctx_key = re.search(r"^initiator ctx_key \((\S+), [^)]*\) = (\w+)", info, re.M)
    acc = re.search(r"^initiator acceptor_subkey \((\S+)\) = (\w+)", info, re.M)
    return (ENCTYPES[ctx_key.group(1)], bytes.fromhex(ctx_key.group(2))), \
        (ENCTYPES[acc.group(1)], bytes.fromhex(acc.group(2))) if acc else None


root = "tests/data/mit-capture"
for case in sorted(os.listdir(root)):
    d = os.path.join(root, case)
    if not os.path.isdir(d):
        continue
    info = open(os.path.join(d, "info.txt")).read()
    ctx_key, acc_key = keys(info)
    message = open(os.path.join(d, "message.bin"), "rb").read()
    for name in sorted(os.listdir(d)):
        if not re.match(r"(c2s|s2c)_wrap_conf.*\.bin$", name):
            continue
        tok = open(os.path.join(d, name), "rb").read()
        flags, rrc = tok[2], int.from_bytes(tok[6:8], "big")
        body = tok[16:]
        r = rrc % len(body)
        body = body[r:] + body[:r]
        enctype, key = acc_key if (flags & 4 and acc_key) else ctx_key
        usage = 24 if name.startswith("c2s") else 22
        conf, plain = decrypt_confounder(enctype, key, usage, body)
        expect = (b"" if "empty" in name else message)
        assert plain[:len(expect)] == expect and len(plain) == len(expect) + 16, name
        print(case, name, usage, conf.hex())
