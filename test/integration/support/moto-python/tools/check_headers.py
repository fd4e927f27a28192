"""Checks that tessera_moto_keepalive.py's `parse_headers` builds the message http.client's own
`parse_headers` (the email package's feed parser) builds (test/integration/moto-patches.test.ts).

Compares the two on: header blocks as the AWS SDKs send them (JavaScript v3 and botocore, with and
without a body, chunked), hand-picked edge cases (continuation lines, a colon first, a line that is
no header, bytes outside ASCII, bare CRs, line breaks str.splitlines knows, no blank line, LF line
ends), and 40,000 random blocks of header-ish bytes (seeded): the message's class and every
attribute (`message_state`), or the exception raised. Then a planted wrong builder (a value keeping
its leading space) must be caught by the verify mode (TESSERA_MOTO_VERIFY=1 compares every block
built with http.client's result), and the function must be installed for this Python and not with
TESSERA_MOTO_FAST_HEADERS=off.
Prints one JSON object; exits 1 on any difference.

Usage: python check_headers.py
"""

from __future__ import annotations

import http.client
import io
import json
import os
import random
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import tessera_moto_keepalive as keepalive  # noqa: E402

OWN = http.client.parse_headers  # http.client's, before any install

SDK_BLOCKS = [
    b"host: 127.0.0.1:40123\r\naccept: application/json\r\ncontent-type: application/x-amz-json-1.0\r\nx-amz-target: DynamoDB_20120810.UpdateItem\r\n"
    b"x-amz-user-agent: aws-sdk-js/3.940.0\r\nuser-agent: aws-sdk-js/3.940.0 ua/2.1 os/linux#6.1.0 lang/js md/nodejs#22.12.0 api/dynamodb#3.940.0 m/E,N\r\n"
    b"amz-sdk-invocation-id: 0b4b7e3e-1a8c-4f5e-9a3e-9d2f6f0c1b2a\r\namz-sdk-request: attempt=1; max=3\r\nx-amz-date: 20261204T221500Z\r\n"
    b"x-amz-content-sha256: 6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b\r\n"
    b"authorization: AWS4-HMAC-SHA256 Credential=testing/20261204/us-east-1/dynamodb/aws4_request, SignedHeaders=accept;amz-sdk-invocation-id;host, Signature=deadbeef\r\n"
    b"content-length: 187\r\nConnection: keep-alive\r\n\r\n",
    b"Host: 127.0.0.1:40123\r\nAccept-Encoding: identity\r\nExpect: 100-continue\r\nUser-Agent: Boto3/1.42.0 md/Botocore#1.42.0 ua/2.1 os/linux#6.1.0\r\n"
    b"Content-MD5: 1B2M2Y8AsgTpgAmY7PhCfg==\r\nX-Amz-Date: 20261204T221500Z\r\nX-Amz-Content-SHA256: UNSIGNED-PAYLOAD\r\nx-amz-meta-owner_name: a_b\r\n"
    b"Authorization: AWS4-HMAC-SHA256 Credential=testing/20261204/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00\r\nContent-Length: 0\r\n\r\n",
    b"POST / HTTP/1.1\r\n\r\n", b"Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\n",
]
EDGES = [
    b"", b"\r\n", b"\n", b"A: b\n\n", b"A:b\r\nB:    c  \r\n\r\n", b"A: b\r\n c\r\n\r\n", b"A: b\r\n\tc\r\n\r\n", b"A b: c\r\n\r\n", b": c\r\n\r\n",
    b"A: \xe9\r\n\r\n", b"\xe9: b\r\n\r\n", b"From x: y\r\n\r\n", b"From nobody\r\nA: b\r\n\r\n", b"A: b\rc\r\n\r\n", b"A: b\x0bc\r\n\r\n",
    b"A: b\x0cc\r\n\r\n", b"A: b\x1cc\r\n\r\n", b"A: b\x85c\r\n\r\n", b"A: b\r\nB: c", b"A:\r\n\r\n", b"A:\t x\t\r\n\r\n", b"A: b\r\nA: c\r\n\r\n",
    b"noheader\r\n\r\n", b"A: b\r\n\r\nbody", b"A: b\r\r\n\r\n", b"A\x00: b\r\n\r\n", b"\x7f: b\r\n\r\n", b"A: b\n\r\n", b"A: b\r\n\n", b"A: b: c\r\n\r\n",
    b"A: " + b"x" * 70000 + b"\r\n\r\n", b"".join(b"H%d: v\r\n" % i for i in range(101)) + b"\r\n",
]


def random_blocks(count: int, seed: int = 5) -> list[bytes]:
    rnd = random.Random(seed)
    blocks = []
    alphabet = b"Ab:- \t\r\n\x85\x0b\xe9~!"
    for _ in range(count // 2):
        blocks.append(bytes(rnd.choice(alphabet) for _ in range(rnd.randint(0, 40))) + rnd.choice([b"\r\n\r\n", b"\n\n", b"\r\n", b""]))
    for _ in range(count - count // 2):
        lines = [rnd.choice([b"Name", b"X-Amz-Date", b"a", b"~!", b"Con tent", b""]) + rnd.choice([b":", b": ", b":\t", b" :"])
                 + bytes(rnd.choice(b"abc \t;=/,\x85\r\xe9") for _ in range(rnd.randint(0, 12))) + rnd.choice([b"\r\n", b"\n"]) for _ in range(rnd.randint(0, 6))]
        blocks.append(b"".join(lines) + rnd.choice([b"\r\n", b"\n", b""]))
    return blocks


def outcome(parse: Any, block: bytes) -> Any:
    try:
        message = parse(io.BufferedReader(io.BytesIO(block)))
        return ("message", type(message).__name__, keepalive.message_state(message))
    except Exception as error:  # noqa: BLE001 - the same exception is part of the same result
        return ("error", type(error).__name__, str(error))


def built_here(block: bytes) -> bool:
    try:
        lines = http.client._read_headers(io.BufferedReader(io.BytesIO(block)))
    except http.client.HTTPException:  # too long, too many: raised before either builds anything
        return False
    return keepalive._build(lines, b"".join(lines).decode("iso-8859-1"), http.client.HTTPMessage) is not None


def main() -> int:
    blocks = SDK_BLOCKS + EDGES + random_blocks(40_000)
    differences = []
    for block in blocks:
        ours, theirs = outcome(keepalive.parse_headers, block), outcome(OWN, block)
        if ours != theirs and len(differences) < 10:
            differences.append({"block": block[:300].decode("latin-1"), "ours": repr(ours)[:500], "theirs": repr(theirs)[:500]})
    report: dict[str, Any] = {
        "blocks": len(blocks),
        "builtHere": sum(1 for b in blocks if built_here(b)),
        "sdkBlocksBuiltHere": all(built_here(b) for b in SDK_BLOCKS[:2]),
        "differences": differences,
    }
    # A planted wrong builder (values keep their leading whitespace) is caught in verify mode.
    build = keepalive._build

    def wrong(lines: list, text: str, cls: type) -> Any:
        message = build(lines, text, cls)
        if message is not None:
            message._headers = [(name, " " + value) for name, value in message._headers]
        return message

    keepalive._build, keepalive._VERIFY = wrong, True
    try:
        keepalive.parse_headers(io.BufferedReader(io.BytesIO(SDK_BLOCKS[0])))
        report["wrongBuilderCaught"] = False
    except AssertionError:
        report["wrongBuilderCaught"] = True
    finally:
        keepalive._build, keepalive._VERIFY = build, False
    os.environ["TESSERA_MOTO_FAST_HEADERS"] = "off"
    report["installedWhenOff"] = keepalive.install_fast_headers()
    del os.environ["TESSERA_MOTO_FAST_HEADERS"]
    report["installed"] = keepalive.install_fast_headers() and http.client.parse_headers is keepalive.parse_headers
    http.client.parse_headers = OWN
    print(json.dumps(report))
    ok = not differences and report["sdkBlocksBuiltHere"] and report["wrongBuilderCaught"] and report["installed"] and not report["installedWhenOff"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
