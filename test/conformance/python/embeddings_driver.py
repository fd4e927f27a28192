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

from typing import Any

from openai.types import embedding_create_params
from openai.types.chat import completion_create_params

from driver_io import client_for, dump, error_of, serve, split_params, unknown_op

EMBED_PARAMS = set(embedding_create_params.EmbeddingCreateParams.__annotations__)
CHAT_PARAMS = set(completion_create_params.CompletionCreateParamsBase.__annotations__)


def handle(req: dict[str, Any]) -> dict[str, Any]:
    c = client_for(req["base_url"], req["api_key"])
    params = dict(req.get("params") or {})
    op = req["op"]
    try:
        if op == "embed":
            result = c.embeddings.create(**split_params(params, EMBED_PARAMS))
            return {"ok": True, "result": dump(result)}
        if op == "chat":
            result = c.chat.completions.create(**split_params(params, CHAT_PARAMS))
            return {"ok": True, "result": dump(result)}
        return unknown_op(op)
    except Exception as e:  # noqa: BLE001 - every failure goes back to the test
        return {"ok": False, "error": error_of(e)}


if __name__ == "__main__":
    serve(handle)
