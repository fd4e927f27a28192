"""Compares the answers moto gave in two recorded runs (tessera_moto_probe.py with
TESSERA_MOTO_RECORD=1), e.g. the same test files with TESSERA_MOTO_PATCHES=off and with the patches.

Usage: python diff_records.py <dir A> <dir B> [--show N]

Each request is keyed by (service, action, method, path, query, request body) and its answer is
(status, Content-Type, body). Per key, the answers of A and B are compared as multisets (the order
of concurrent requests varies between runs). Masked before comparing, in requests and answers:
timestamps (ISO 8601, RFC 822, epoch seconds and milliseconds, Tessera's compact forms), UUIDs, STS
session tokens, JWTs, 48-hex API key values, 12-hex id suffixes, the servers' ports, and S3 ETags / SQS MD5s (hashes of content holding those; the
content is compared where it is read) (taken from
the clock, `uuid`, `os.urandom` or `secrets`, which moto's seed does not reach).
Request ids and Date headers are not compared (headers other than Content-Type are not compared).
Prints a JSON summary (and the first N differing keys with --show); exits 1 if any answer differs.
"""

from __future__ import annotations

import glob
import json
import os
import re
import sys
from collections import Counter, defaultdict

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?|\b1[6-9]\d{8}(?:\d{3}|\.\d+)?\b|[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT|\d{8}T\d{6}Z")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
SESSION_TOKEN = re.compile(r"(<SessionToken>|\"SessionToken\": ?\")[^<\"]*")
SIGNATURE = re.compile(r"(Signature=|X-Amz-Signature=|X-Amz-Credential=|X-Amz-Security-Token=)[^&\s\"]*")
# Values moto takes from os.urandom / secrets / the clock that are not timestamps in a standard form:
# JWTs (Cognito: iat, exp, jti), API Gateway key values (48 hex), RDS snapshot id suffixes (12 hex),
# the servers' ports in URLs, and the compact timestamps Tessera writes into keys and notes.
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")
HEX_SECRET = re.compile(r"\b[0-9a-f]{48}\b|(?<=-)[0-9a-f]{12}\b")
PORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")
# Content hashes (S3 ETag, SQS MD5OfBody) of content that holds masked values itself.
CONTENT_HASH = re.compile(r"(<ETag>(?:&quot;|\")?|\"ETag\": \"\\?\"?|\"MD5OfBody\": \"|\"MD5OfMessageBody\": \")[0-9a-f]{32}")
COMPACT_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d-?\d\d-?\d\d(?:-\d{3})?Z")


def mask(text: str | None) -> str:
    text = text or ""
    for pattern, replacement in ((SESSION_TOKEN, r"\1<token>"), (SIGNATURE, r"\1<sig>"), (JWT, "<jwt>"), (UUID, "<uuid>"), (COMPACT_TIME, "<time>"), (TIMESTAMP, "<time>"), (CONTENT_HASH, r"\1<md5>"), (HEX_SECRET, "<hex>"), (PORT, r"\1:<port>")):
        text = pattern.sub(replacement, text)
    return text


def load(directory: str) -> dict[tuple, Counter]:
    answers: dict[tuple, Counter] = defaultdict(Counter)
    for path in sorted(glob.glob(os.path.join(directory, "moto-*.jsonl"))):
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                if "body" not in row:
                    continue
                key = (row["service"], row["action"], row["method"], mask(row["path"]), mask(row["query"]), mask(row["requestBody"]))
                content_type = next((v for k, v in row["headers"] or [] if k.lower() == "content-type"), None)
                answers[key][(row["status"], content_type, mask(row["body"]))] += 1
    return answers


def main() -> int:
    a_dir, b_dir = sys.argv[1], sys.argv[2]
    show = int(sys.argv[sys.argv.index("--show") + 1]) if "--show" in sys.argv else 0
    a, b = load(a_dir), load(b_dir)
    compared = differing = only_one = 0
    samples = []
    for key in sorted(set(a) | set(b), key=str):
        if key not in a or key not in b:
            only_one += sum((a.get(key) or b.get(key)).values())
            continue
        compared += min(sum(a[key].values()), sum(b[key].values()))
        if a[key] != b[key]:
            differing += 1
            if len(samples) < show:
                only_a, only_b = sorted((a[key] - b[key]).elements()), sorted((b[key] - a[key]).elements())
                pairs = []
                for x, y in zip(only_a, only_b):
                    at = next((i for i, (p, q) in enumerate(zip(x[2], y[2])) if p != q), min(len(x[2]), len(y[2])))
                    pairs.append({"status": [x[0], y[0]], "at": at, "a": x[2][max(0, at - 80) : at + 80], "b": y[2][max(0, at - 80) : at + 80]})
                samples.append({"key": key[:5], "pairs": pairs[:2]})
    summary = {
        "requestsA": sum(sum(c.values()) for c in a.values()),
        "requestsB": sum(sum(c.values()) for c in b.values()),
        "keys": len(set(a) | set(b)),
        "answersCompared": compared,
        "keysDiffering": differing,
        "requestsInOneRunOnly": only_one,
    }
    print(json.dumps(summary))
    for sample in samples:
        print(json.dumps(sample))
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
