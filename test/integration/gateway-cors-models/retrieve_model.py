"""`client.models.retrieve(id)` with the official OpenAI Python client, for the gateway tests.

    .venv/bin/python retrieve_model.py < BATCHES

BATCHES are {"base_url", "cases": [{"api_key", "id"}, ...]}, one a line on stdin: one interpreter for all the
batches of a test file (its start, mostly `import openai`, is about 0.9 s of CPU), and per batch one
client per API key, as an app holding that key makes it (closed when the batch is done), and the
calls in order. Prints one JSON line per case: {"id", "ok": true, "model": {...}, "path": "..."}
or {"id", "ok": false, "status", "type", "error": {...}, "path": "..."}, where "path" is the
request path the client sent (the pinned client percent-encodes "/" in a path parameter and leaves
":" as it is), then {"done": true} once the batch is answered. Ends at the end of stdin.
"""

from __future__ import annotations

import json
import sys

import httpx2
import openai
from openai import OpenAI


def retrieve_batch(base_url: str, cases: list[dict[str, str]]) -> None:
    sent: list[str] = []
    clients: dict[str, OpenAI] = {}
    try:
        for case in cases:
            api_key, model_id = case["api_key"], case["id"]
            if api_key not in clients:
                http = httpx2.Client(event_hooks={"request": [lambda r: sent.append(r.url.raw_path.decode())]})
                clients[api_key] = OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=20, http_client=http)
            client = clients[api_key]
            sent.clear()
            try:
                model = client.models.retrieve(model_id)
                out = {"id": model_id, "ok": True, "model": model.model_dump(), "path": sent[-1]}
            except openai.APIStatusError as e:
                body = e.body if isinstance(e.body, dict) else None
                out = {"id": model_id, "ok": False, "status": e.status_code, "type": type(e).__name__, "error": body, "path": sent[-1] if sent else None}
            print(json.dumps(out), flush=True)
    finally:
        for client in clients.values():
            client.close()
    print(json.dumps({"done": True}), flush=True)


def main() -> None:
    for line in sys.stdin:
        if line.strip():
            batch = json.loads(line)
            retrieve_batch(batch["base_url"], batch["cases"])


if __name__ == "__main__":
    main()
