"""`client.models.retrieve(id)` with the official OpenAI Python client, for the gateway tests.

    .venv/bin/python retrieve_model.py BASE_URL API_KEY ID [ID...]

prints one JSON line per id: {"id", "ok": true, "model": {...}, "path": "..."} or
{"id", "ok": false, "status", "type", "error": {...}, "path": "..."}, where "path" is the
request path the client sent (the pinned client percent-encodes "/" in a path parameter and
leaves ":" as it is).
"""

from __future__ import annotations

import json
import sys

import httpx2
import openai
from openai import OpenAI


def main() -> None:
    base_url, api_key, *ids = sys.argv[1:]
    sent: list[str] = []
    http = httpx2.Client(event_hooks={"request": [lambda r: sent.append(r.url.raw_path.decode())]})
    client = OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=20, http_client=http)
    for model_id in ids:
        sent.clear()
        try:
            model = client.models.retrieve(model_id)
            out = {"id": model_id, "ok": True, "model": model.model_dump(), "path": sent[-1]}
        except openai.APIStatusError as e:
            body = e.body if isinstance(e.body, dict) else None
            out = {"id": model_id, "ok": False, "status": e.status_code, "type": type(e).__name__, "error": body, "path": sent[-1] if sent else None}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
