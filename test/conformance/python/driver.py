"""The official OpenAI Python client, driven by the conformance suite over JSON lines.

One long-lived process per test file (spawned with `.venv/bin/python`), so the suite pays the
import cost of `openai` and `pydantic` once. Requests come one per line on stdin:

    {"id": 1, "op": "create" | "stream" | "parse", "base_url": "...", "api_key": "...",
     "params": {...chat-completions params...}, "schema": {"name": ..., "schema": {...}}?,
     "close_after": N?, "first_choice_loop": true?}

and each gets one line on stdout:

    {"id": 1, "ok": true, "result": {...}}                      create
    {"id": 1, "ok": true, "chunks": [...], "text": "..."}       stream
    {"id": 1, "ok": true, "parsed": {...}, "result": {...}}     parse (with "chunks" when streamed)
    {"id": 1, "ok": false, "error": {"status", "body", "headers", "type", "message"}, "chunks"?: [...]}

- Params the client names are passed as keyword arguments, any other (`top_k`,
  `chat_template_kwargs`...) through `extra_body`, as an application would.
- Results are what the application sees: the client's pydantic objects, dumped with the fields
  the answer set (`exclude_unset`), extras included.
- `stream` collects every chunk. `close_after: N` closes the stream after N chunks (the client
  going away). `first_choice_loop` reads `chunk.choices[0].delta` in the loop, as most
  applications do, so a chunk without choices fails the call (IndexError).
- `parse` calls `client.chat.completions.parse` with a pydantic model built from `schema`
  (`client.chat.completions.stream` and its final completion when `params.stream` is true), and
  returns the parsed object.
- The first line written is {"ready": true}, once the imports are done.
"""

from __future__ import annotations

import json
import sys
import traceback
import warnings
from typing import Any, List, Optional

import openai
import pydantic
from openai import OpenAI
from openai.types.chat import completion_create_params

# `parsed` holds the model built here, which the client's own type for it does not name.
warnings.filterwarnings("ignore", message="Pydantic serializer warnings")

NAMED_PARAMS = set(completion_create_params.CompletionCreateParamsBase.__annotations__) | {"stream"}

_clients: dict[tuple[str, str], OpenAI] = {}


def client_for(base_url: str, api_key: str) -> OpenAI:
    key = (base_url, api_key)
    if key not in _clients:
        _clients[key] = OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=20)
    return _clients[key]


def split_params(params: dict[str, Any]) -> dict[str, Any]:
    named = {k: v for k, v in params.items() if k in NAMED_PARAMS}
    extra = {k: v for k, v in params.items() if k not in NAMED_PARAMS}
    if extra:
        named["extra_body"] = extra
    return named


def dump(obj: Any) -> Any:
    return obj.model_dump(mode="json", exclude_unset=True)


_TYPES = {"string": str, "integer": int, "number": float, "boolean": bool}


def field_type(schema: dict[str, Any], name: str) -> Any:
    kind = schema.get("type")
    if kind in _TYPES:
        return _TYPES[kind]
    if kind == "array":
        return List[field_type(schema.get("items", {}), name)]  # type: ignore[misc]
    if kind == "object":
        return model_from_schema(schema.get("title") or name.title().replace("_", ""), schema)
    raise ValueError(f"the driver cannot build a pydantic field for the schema {schema!r}")


def model_from_schema(name: str, schema: dict[str, Any]) -> type[pydantic.BaseModel]:
    """A pydantic model for an object schema: its properties, required ones without default."""
    required = set(schema.get("required", []))
    fields: dict[str, Any] = {}
    for prop, sub in schema.get("properties", {}).items():
        t = field_type(sub, prop)
        fields[prop] = (t, ...) if prop in required else (Optional[t], None)
    return pydantic.create_model(name, **fields)  # type: ignore[call-overload]


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


def run_stream(c: OpenAI, req: dict[str, Any], kw: dict[str, Any]) -> dict[str, Any]:
    chunks: list[Any] = []
    text = ""
    close_after = req.get("close_after")
    try:
        stream = c.chat.completions.create(**kw)
        for chunk in stream:
            chunks.append(dump(chunk))
            if req.get("first_choice_loop"):
                text += chunk.choices[0].delta.content or ""
            if close_after is not None and len(chunks) >= close_after:
                stream.close()
                break
    except Exception as e:  # noqa: BLE001 - every failure goes back to the test
        return {"ok": False, "chunks": chunks, "text": text, "error": error_of(e)}
    return {"ok": True, "chunks": chunks, "text": text}


def run_parse(c: OpenAI, req: dict[str, Any], kw: dict[str, Any]) -> dict[str, Any]:
    schema = req["schema"]
    model = model_from_schema(schema["name"], schema["schema"])
    if kw.pop("stream", False):
        chunks: list[Any] = []
        with c.chat.completions.stream(response_format=model, **kw) as stream:
            for event in stream:
                if event.type == "chunk":
                    chunks.append(dump(event.chunk))
            final = stream.get_final_completion()
        parsed = final.choices[0].message.parsed
        return {"ok": True, "parsed": parsed.model_dump(mode="json") if parsed else None, "result": dump(final), "chunks": chunks}
    completion = c.chat.completions.parse(response_format=model, **kw)
    parsed = completion.choices[0].message.parsed
    return {"ok": True, "parsed": parsed.model_dump(mode="json") if parsed else None, "result": dump(completion)}


def handle(req: dict[str, Any]) -> dict[str, Any]:
    c = client_for(req["base_url"], req["api_key"])
    kw = split_params(dict(req.get("params") or {}))
    op = req["op"]
    try:
        if op == "create":
            kw.pop("stream", None)
            return {"ok": True, "result": dump(c.chat.completions.create(**kw))}
        if op == "stream":
            kw["stream"] = True
            return run_stream(c, req, kw)
        if op == "parse":
            return run_parse(c, req, kw)
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
