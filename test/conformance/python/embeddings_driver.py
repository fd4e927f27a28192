"""The official OpenAI Python client's embeddings, driven by the conformance suite over JSON lines.

The embeddings twin of driver.py (same protocol, same error shape), one long-lived process per
test file. Requests, one per line on stdin:

    {"id": 1, "op": "embed" | "chat", "base_url": "...", "api_key": "...", "params": {...}}

- `embed`: `client.embeddings.create(**params)`. Params the client names (model, input,
  dimensions, encoding_format, user) are keyword arguments, any other through `extra_body`. When
  `encoding_format` is not given the client asks for base64 and decodes the vectors itself
  (openai/lib/_parsing/_embeddings.py): the test sees floats either way, as an application does.
- `chat`: `client.chat.completions.create(**params)` (no stream), for the kind-mismatch cells.

Each gets one line on stdout: {"id", "ok": true, "result": {...}} (the client's pydantic object,
dumped with the fields the answer set) or {"id", "ok": false, "error": {"status", "body",
"headers", "type", "message"}}. The first line written is {"ready": true}.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

import openai
from openai import OpenAI
from openai.types import embedding_create_params
from openai.types.chat import completion_create_params

EMBED_PARAMS = set(embedding_create_params.EmbeddingCreateParams.__annotations__)
CHAT_PARAMS = set(completion_create_params.CompletionCreateParamsBase.__annotations__)

_clients: dict[tuple[str, str], OpenAI] = {}


def client_for(base_url: str, api_key: str) -> OpenAI:
    key = (base_url, api_key)
    if key not in _clients:
        _clients[key] = OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=20)
    return _clients[key]


def split_params(params: dict[str, Any], named_params: set[str]) -> dict[str, Any]:
    named = {k: v for k, v in params.items() if k in named_params}
    extra = {k: v for k, v in params.items() if k not in named_params}
    if extra:
        named["extra_body"] = extra
    return named


def error_of(e: BaseException) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(e).__name__, "message": str(e), "status": None, "body": None, "headers": {}}
    if isinstance(e, openai.APIStatusError):
        out["status"] = e.status_code
        out["body"] = e.body
        out["headers"] = {k.lower(): v for k, v in e.response.headers.items()}
        out["message"] = e.message
    elif isinstance(e, openai.APIError):
        out["body"] = e.body
        out["message"] = e.message
    return out


def handle(req: dict[str, Any]) -> dict[str, Any]:
    c = client_for(req["base_url"], req["api_key"])
    params = dict(req.get("params") or {})
    op = req["op"]
    try:
        if op == "embed":
            result = c.embeddings.create(**split_params(params, EMBED_PARAMS))
            return {"ok": True, "result": result.model_dump(mode="json", exclude_unset=True)}
        if op == "chat":
            result = c.chat.completions.create(**split_params(params, CHAT_PARAMS))
            return {"ok": True, "result": result.model_dump(mode="json", exclude_unset=True)}
        return {"ok": False, "error": {"type": "DriverError", "message": f"unknown op {op!r}", "status": None, "body": None, "headers": {}}}
    except Exception as e:  # noqa: BLE001 - every failure goes back to the test
        return {"ok": False, "error": error_of(e)}


def main() -> None:
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req: dict[str, Any] = {}
        try:
            req = json.loads(line)
            out = handle(req)
        except Exception as e:  # noqa: BLE001 - a broken request must not end the driver
            out = {"ok": False, "error": {"type": "DriverError", "message": "".join(traceback.format_exception(e)), "status": None, "body": None, "headers": {}}}
        out["id"] = req.get("id")
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
