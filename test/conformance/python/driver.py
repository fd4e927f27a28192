"""The official OpenAI Python client, driven by the conformance suite over JSON lines.

One long-lived process per test file (spawned with `.venv/bin/python`), so the suite pays the
import cost of `openai` and `pydantic` once. Requests come one per line on stdin:

    {"id": 1, "op": "create" | "stream" | "parse" | "models" | "version", "base_url": "...", "api_key": "...",
     "params": {...chat-completions params...}, "schema": {"name": ..., "schema": {...}}?,
     "close_after": N?, "first_choice_loop": true?, "headers": true?, "extra_headers": {...}?}

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
- `headers: true` (create and stream) calls `client.chat.completions.with_raw_response.create`
  and adds the answer's (a stream's head) HTTP headers, names lower-cased, as `headers`.
- `extra_headers` (an object of header names to values) goes with the call as the client's `extra_headers`, as an
  application sends a header on one call (`x-tessera-tags`).
- `parse` calls `client.chat.completions.parse` with a pydantic model built from `schema`
  (`client.chat.completions.stream` and its final completion when `params.stream` is true), and
  returns the parsed object.
- `models` calls `client.models.list()` and returns every model (`result`: a list); `version` returns
  `openai.__version__`.
- The same script runs under `.venv-legacy-clients`' Python, the client's 1.x line (test/integration/gateway-conformance/
  openai-python-1x.test.ts): every name it uses is in openai 1.109.1 (`chat.completions.parse` and `.stream` left
  `beta` in 1.92; `CompletionCreateParamsBase` and the error classes are the same).
- The first line written is {"ready": true}, once the imports are done.
"""

from __future__ import annotations

import warnings
from typing import Any

import openai
from openai import OpenAI
from openai.types.chat import completion_create_params

from driver_io import client_for, dump, error_of, model_from_schema, serve, split_params, unknown_op

# `parsed` holds the model built here, which the client's own type for it does not name.
warnings.filterwarnings("ignore", message="Pydantic serializer warnings")

NAMED_PARAMS = set(completion_create_params.CompletionCreateParamsBase.__annotations__) | {"stream"}


def headers_of(raw: Any) -> dict[str, str]:
    """A raw response's HTTP headers as the test reads them: names lower-cased."""
    return {k.lower(): v for k, v in raw.headers.items()}


def run_stream(c: OpenAI, req: dict[str, Any], kw: dict[str, Any]) -> dict[str, Any]:
    chunks: list[Any] = []
    text = ""
    close_after = req.get("close_after")
    headers: dict[str, str] | None = None
    try:
        if req.get("headers"):
            raw = c.chat.completions.with_raw_response.create(**kw)
            headers = headers_of(raw)
            stream = raw.parse()
        else:
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
    return {"ok": True, "chunks": chunks, "text": text, **({"headers": headers} if headers is not None else {})}


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
    # `beta: true`: `client.beta.chat.completions.parse`, where openai 1.x apps written before 1.92 call it.
    completion = (c.beta.chat.completions if req.get("beta") else c.chat.completions).parse(response_format=model, **kw)
    parsed = completion.choices[0].message.parsed
    return {"ok": True, "parsed": parsed.model_dump(mode="json") if parsed else None, "result": dump(completion)}


def handle(req: dict[str, Any]) -> dict[str, Any]:
    c = client_for(req["base_url"], req["api_key"])
    if req.get("max_retries") is not None:
        c = c.with_options(max_retries=req["max_retries"])
    kw = split_params(dict(req.get("params") or {}), NAMED_PARAMS)
    if req.get("extra_headers"):
        kw["extra_headers"] = req["extra_headers"]
    op = req["op"]
    try:
        if op == "create":
            kw.pop("stream", None)
            if req.get("headers"):
                raw = c.chat.completions.with_raw_response.create(**kw)
                return {"ok": True, "result": dump(raw.parse()), "headers": headers_of(raw)}
            return {"ok": True, "result": dump(c.chat.completions.create(**kw))}
        if op == "stream":
            kw["stream"] = True
            return run_stream(c, req, kw)
        if op == "parse":
            return run_parse(c, req, kw)
        if op == "version":
            return {"ok": True, "result": openai.__version__}
        if op == "models":
            return {"ok": True, "result": [dump(m) for m in c.models.list()]}
        return unknown_op(op)
    except Exception as e:  # noqa: BLE001 - every failure goes back to the test
        return {"ok": False, "error": error_of(e)}


if __name__ == "__main__":
    serve(handle)
