#!/usr/bin/env python3
"""Writes the fuzzer's seed corpus (docs/fuzzing.md) into the directory given:
RFC 4648 vectors, quirky padding and whitespace, and wrapped, unwrapped and
URL-alphabet encodings of random data. Deterministic, so CI replays the same files."""
import base64
import os
import random
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "fuzz-corpus/codec-seeds"
os.makedirs(out, exist_ok=True)
random.seed(1)
seeds = [b'', b'Zg==', b'Zm8=', b'Zm9v', b'Zm9vYg', b'Zm9vYmE=', b'-_-_', b'+/+/', b'Zg==\n',
         b' Z g = =\r\n', b'Zg!==', b'Zh==', b'AAAA=AAA']
for n in (10, 57, 100, 300, 1000, 3100):
    data = bytes(random.getrandbits(8) for _ in range(n))
    text = base64.b64encode(data)
    seeds += [text, b'\n'.join(text[i:i + 76] for i in range(0, len(text), 76)) + b'\n',
              base64.urlsafe_b64encode(data).rstrip(b'=')]
# Several 8 KiB staging chunks of the skipping decoder, with whitespace across them.
data = bytes(random.getrandbits(8) for _ in range(30000))
text = base64.b64encode(data)
seeds += [b'\r\n'.join(text[i:i + 64] for i in range(0, len(text), 64)), text[:-3] + b' =\n=']
for i, s in enumerate(seeds):
    with open(os.path.join(out, f"seed{i:03d}"), "wb") as f:
        f.write(s)
