"""The official OpenAI Python client's moderations, driven by the conformance suite over JSON lines.

The moderations twin of embeddings_driver.py (same protocol, same error shape), one long-lived
process per test file. Requests, one per line on stdin:

    {"id": 1, "op": "moderate" | "categories", "base_url": "...", "api_key": "...", "params": {...}}

- `moderate`: `client.moderations.create(**params)`. Params the client names (input, model) are
  keyword arguments, any other through `extra_body`. The answer is the client's pydantic
  `ModerationCreateResponse`, dumped by alias (`harassment/threatening`, as the wire has it); it is
  also validated strictly against that model from the raw JSON (`validated`: the client's own
  parse is lenient and would accept a missing field), so a shape the SDK's types refuse fails here.
- `categories`: the category names of the SDK's `Moderation.Categories` (by alias), for the test
  to compare an answer's keys with.

Each gets one line on stdout: {"id", "ok": true, "result": {...}, "validated": true} or
{"id", "ok": false, "error": {"status", "body", "headers", "type", "message"}}. The first line
written is {"ready": true}.
"""

from __future__ import annotations

from typing import Any

from openai.types import ModerationCreateResponse, moderation, moderation_create_params

from driver_io import client_for, error_of, serve, split_params, unknown_op

MODERATE_PARAMS = set(moderation_create_params.ModerationCreateParams.__annotations__)


def handle(req: dict[str, Any]) -> dict[str, Any]:
    op = req["op"]
    if op == "categories":
        return {"ok": True, "result": [f.alias or name for name, f in moderation.Categories.model_fields.items()]}
    if op != "moderate":
        return unknown_op(op)
    c = client_for(req["base_url"], req["api_key"])
    params = dict(req.get("params") or {})
    try:
        raw = c.moderations.with_raw_response.create(**split_params(params, MODERATE_PARAMS))
        result = raw.parse()
        ModerationCreateResponse.model_validate(raw.http_response.json(), strict=True)
        return {"ok": True, "result": result.model_dump(mode="json", by_alias=True, exclude_unset=True), "validated": isinstance(result, ModerationCreateResponse)}
    except Exception as e:  # noqa: BLE001 - every failure goes back to the test
        return {"ok": False, "error": error_of(e)}


if __name__ == "__main__":
    serve(handle)
