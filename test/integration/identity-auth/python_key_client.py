"""The official OpenAI Python client with a tenant API key (tsk_...) as api_key.

Usage: python python_key_client.py, then one request per line on stdin: {"base_url", "api_key",
"ops": [...]}; each op is {"op": "chat" | "embed" | "models", "model"?: str}. Each request gets one
JSON line on stdout: a list with, per op, {"ok": <result>} or {"status": <HTTP status>, "error":
<the error object>}. Each request makes a new client (a key of its own, no connection kept from
the last request); the process exits at the end of stdin. One process per test file: `import openai`
is paid once, not per request.
"""
import json
import sys

import openai


def run(args: dict) -> list:
    client = openai.OpenAI(base_url=args["base_url"], api_key=args["api_key"], max_retries=0, timeout=20)
    out = []
    for op in args["ops"]:
        try:
            if op["op"] == "chat":
                r = client.chat.completions.create(model=op["model"], messages=[{"role": "user", "content": "hello from python"}], max_tokens=16)
                out.append({"ok": {"content": r.choices[0].message.content, "usage": r.usage.model_dump()}})
            elif op["op"] == "embed":
                r = client.embeddings.create(model=op["model"], input=["alpha", "beta"])
                out.append({"ok": {"count": len(r.data), "dims": len(r.data[0].embedding), "usage": r.usage.model_dump()}})
            elif op["op"] == "models":
                out.append({"ok": sorted(m.id for m in client.models.list())})
            else:
                raise ValueError(op["op"])
        except openai.APIStatusError as e:
            body = e.body if isinstance(e.body, dict) else None
            out.append({"status": e.status_code, "error": body.get("error", body) if body else None, "type": type(e).__name__})
    client.close()
    return out


for line in sys.stdin:
    if line.strip():
        print(json.dumps(run(json.loads(line))), flush=True)
