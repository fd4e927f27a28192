"""The official OpenAI Python client with a tenant API key (tsk_...) as api_key.

Usage: python python_key_client.py '<json>' where json = {"base_url", "api_key", "ops": [...]}; each
op is {"op": "chat" | "embed" | "models", "model"?: str}. Prints one JSON line: a list with, per op,
{"ok": <result>} or {"status": <HTTP status>, "error": <the error object>}.
"""
import json
import sys

import openai

args = json.loads(sys.argv[1])
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
print(json.dumps(out))
