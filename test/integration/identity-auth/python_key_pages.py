"""Walks GET /v1/tenant/keys with the official openai client's cursor pagination, as docs/identity.md
("Listing keys") shows: client.get_api_list with SyncCursorPage and a model on openai.BaseModel.

Reads GW (the gateway's base URL), ADMIN (an admin key or token) and LIMIT (keys a page) from the
environment; prints one JSON line: the ids in the order the pages gave them, and how many pages it read.
"""
import json
import os

import httpx
import openai
from openai.pagination import SyncCursorPage


class Key(openai.BaseModel):
    id: str
    name: str


pages = 0


def count_page(response: httpx.Response) -> None:
    global pages
    if response.request.url.path.endswith("/tenant/keys"):
        pages += 1


client = openai.OpenAI(
    base_url=os.environ["GW"], api_key=os.environ["ADMIN"], max_retries=0,
    http_client=httpx.Client(event_hooks={"response": [count_page]}),
)
keys = list(client.get_api_list("/tenant/keys", model=Key, page=SyncCursorPage[Key], options={"params": {"limit": int(os.environ["LIMIT"])}}))
print(json.dumps({"ids": [k.id for k in keys], "pages": pages}))
