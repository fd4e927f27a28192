"""LlamaIndex and instructor on the official client's 1.x line, driven over JSON lines against the gateway, as RAG and
structured-output applications call it. Runs under `.venv-legacy-clients`' Python (requirements-legacy-clients.txt:
openai 1.109.1, llama-index-core 0.14.25 with its OpenAI packages, instructor 1.12.0), whose zygote has them imported
(test/support/python-zygote.ts DRIVER_VENVS). Same protocol and error shape as driver.py (driver_io.serve).

Requests, one per line on stdin: {"id", "op", "base_url", "api_key", "model", ...op fields}.

LlamaIndex (`OpenAILike(model, api_base, api_key, is_chat_model=True, is_function_calling_model=True)`, `max_retries` 0
and `timeout` 20 s unless `options` says):
- `li_complete`: `.complete(prompt)`; result = {text}.
- `li_chat`: `.chat(messages)`; result = {content, additional_kwargs}. `li_stream_chat` / `li_astream_chat`:
  `.stream_chat` / `.astream_chat`; result = {deltas, content (the last response's whole content), usage (the
  usage a chunk's `raw` carried, or null)}.
- `li_structured`: `.structured_predict(Person, PromptTemplate(prompt))`; result = the Person.
- `li_predict_and_call`: `.predict_and_call([get_weather], user_msg)`; result = {response, tool_calls: [city...]}.
- `li_agent`: `FunctionAgent(tools=[get_weather], llm=...)` run on `user_msg`; result = {response, tool_calls}.
- `li_embed`: `OpenAIEmbedding(model_name, api_base, api_key).get_text_embedding_batch(texts)`; result = the vectors.
- `li_rag`: `VectorStoreIndex.from_documents(Document(text=...) for texts, embed_model=...)` then
  `.as_query_engine(llm=..., similarity_top_k=1).query(query)`; result = {response, sources: [node texts]}.
- `li_responses`: `llama_index.llms.openai.OpenAIResponses(model, api_base, api_key, context_window)` `.chat(messages)`,
  streamed with `stream`; result = {content} ({deltas, content} streamed).
`messages`: [[role, content], ...] (ChatMessage roles: system, user, assistant).

instructor (`instructor.from_openai(OpenAI(base_url, api_key, max_retries=0), mode=Mode[mode])`):
- `in_create`: `client.chat.completions.create(model, messages, response_model=Person, max_retries=retries)`;
  result = the Person. With mode RESPONSES_TOOLS, `client.responses.create(model, input=messages, ...)`.
- `in_partial`: `create_partial(...)`: result = every partial (model_dump), the last the whole object.
- `in_iterable`: `create_iterable(response_model=Person)` (streamed); with mode PARALLEL_TOOLS (which does not
  stream) `create(response_model=Iterable[Person])`; result = the Persons.
`messages`: [{role, content}, ...] as the openai client takes them.

Errors come back as driver_io.error_of's shape; instructor's own (`InstructorRetryException`) with `type` its class.

Offline: LlamaIndex tokenizes with tiktoken and splits sentences with NLTK; it points TIKTOKEN_CACHE_DIR and NLTK's data
path at the copies llama-index-core ships under llama_index/core/_static (tiktoken's cl100k_base and o200k_base,
NLTK's punkt_tab and stopwords), so no download is attempted: the test runs the driver with proxies that refuse every
host but 127.0.0.1 and would fail on one.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Iterable

import pydantic

from driver_io import error_of, serve, unknown_op

names: dict[str, Any] = {}


def load() -> dict[str, Any]:
    """LlamaIndex's and instructor's classes (imported by the run's zygote already: a dict lookup then)."""
    if names:
        return names
    import instructor
    from llama_index.core import Document, PromptTemplate, VectorStoreIndex
    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.core.llms import ChatMessage
    from llama_index.core.tools import FunctionTool
    from llama_index.embeddings.openai import OpenAIEmbedding
    from llama_index.llms.openai import OpenAIResponses
    from llama_index.llms.openai_like import OpenAILike
    from openai import OpenAI

    names.update(locals())
    return names


class Person(pydantic.BaseModel):
    """A person mentioned in the text."""

    name: str = pydantic.Field(description="The person's name")
    age: int = pydantic.Field(description="The person's age in years", ge=0)


def weather_tool(calls: list[str]) -> Any:
    """LlamaIndex's FunctionTool of `get_weather(city)`, recording each city asked for in `calls`."""

    def get_weather(city: str) -> str:
        """Current weather in a city."""
        calls.append(city)
        return json.dumps({"city": city, "temp_c": 3, "sky": "sunny"})

    return load()["FunctionTool"].from_defaults(fn=get_weather)


def llm_of(req: dict[str, Any]) -> Any:
    options = {"max_retries": 0, "timeout": 20, "is_chat_model": True, "is_function_calling_model": True, **(req.get("options") or {})}
    return load()["OpenAILike"](model=req["model"], api_base=req["base_url"], api_key=req["api_key"], **options)


def messages_of(req: dict[str, Any]) -> list[Any]:
    return [load()["ChatMessage"](role=r, content=c) for r, c in req["messages"]]


def embedder_of(req: dict[str, Any]) -> Any:
    options = {"max_retries": 0, "timeout": 20, **(req.get("embed_options") or {})}
    return load()["OpenAIEmbedding"](model_name=req.get("embed_model") or req["model"], api_base=req["base_url"], api_key=req["api_key"], **options)


def usage_of(r: Any) -> Any:
    """The usage a streamed ChatResponse's raw chunk carries (the last chunk's, when the stream asked for it), or None."""
    usage = getattr(r.raw, "usage", None) if r.raw is not None and not isinstance(r.raw, dict) else (r.raw or {}).get("usage")
    return usage.model_dump(mode="json", exclude_unset=True) if hasattr(usage, "model_dump") else usage


async def astream(llm: Any, messages: list[Any]) -> dict[str, Any]:
    deltas, last, usage = [], None, None
    async for r in await llm.astream_chat(messages):
        deltas.append(r.delta)
        last, usage = r, usage_of(r) or usage
    return {"deltas": deltas, "content": last.message.content if last else None, "usage": usage}


def streamed(gen: Any) -> dict[str, Any]:
    """A stream's deltas, the whole content (the last response's) and the usage any chunk carried."""
    deltas, last, usage = [], None, None
    for r in gen:
        deltas.append(r.delta)
        last, usage = r, usage_of(r) or usage
    return {"deltas": deltas, "content": last.message.content if last else None, "usage": usage}


async def run_agent(llm: Any, req: dict[str, Any]) -> dict[str, Any]:
    calls: list[str] = []
    agent = load()["FunctionAgent"](tools=[weather_tool(calls)], llm=llm, system_prompt="Answer with the weather tool.")
    out = await agent.run(user_msg=req["user_msg"])
    return {"response": str(out.response.content), "tool_calls": calls}


def llama(req: dict[str, Any]) -> Any:
    k = load()
    op = req["op"]
    if op == "li_complete":
        return {"text": llm_of(req).complete(req["prompt"]).text}
    if op == "li_chat":
        r = llm_of(req).chat(messages_of(req))
        return {"content": r.message.content, "additional_kwargs": r.message.additional_kwargs}
    if op == "li_stream_chat":
        return streamed(llm_of(req).stream_chat(messages_of(req)))
    if op == "li_astream_chat":
        return asyncio.run(astream(llm_of(req), messages_of(req)))
    if op == "li_structured":
        return llm_of(req).structured_predict(Person, k["PromptTemplate"](req["prompt"])).model_dump()
    if op == "li_predict_and_call":
        calls: list[str] = []
        r = llm_of(req).predict_and_call([weather_tool(calls)], user_msg=req["user_msg"])
        return {"response": r.response, "tool_calls": calls}
    if op == "li_agent":
        return asyncio.run(run_agent(llm_of(req), req))
    if op == "li_embed":
        return embedder_of(req).get_text_embedding_batch(req["texts"])
    if op == "li_rag":
        index = k["VectorStoreIndex"].from_documents([k["Document"](text=t) for t in req["texts"]], embed_model=embedder_of(req))
        r = index.as_query_engine(llm=llm_of(req), similarity_top_k=req.get("top_k", 1)).query(req["query"])
        return {"response": str(r), "sources": [n.node.get_content() for n in r.source_nodes]}
    if op == "li_responses":
        options = {"max_retries": 0, "timeout": 20, "context_window": 128000, **(req.get("options") or {})}
        llm = k["OpenAIResponses"](model=req["model"], api_base=req["base_url"], api_key=req["api_key"], **options)
        if req.get("stream"):
            return streamed(llm.stream_chat(messages_of(req)))
        return {"content": llm.chat(messages_of(req)).message.content}
    return None


def instructor_call(req: dict[str, Any]) -> Any:
    k = load()
    mode = k["instructor"].Mode[req.get("mode", "TOOLS")]
    client = k["instructor"].from_openai(k["OpenAI"](base_url=req["base_url"], api_key=req["api_key"], max_retries=0, timeout=20), mode=mode)
    kw: dict[str, Any] = {"model": req["model"], "max_retries": req.get("retries", 0), **(req.get("kwargs") or {})}
    if mode == k["instructor"].Mode.RESPONSES_TOOLS:
        kw["input"] = req["messages"]
    else:
        kw["messages"] = req["messages"]
    op = req["op"]
    if op == "in_create":
        target = client.responses if mode == k["instructor"].Mode.RESPONSES_TOOLS else client.chat.completions
        return target.create(response_model=Person, **kw).model_dump()
    if op == "in_partial":
        return [p.model_dump() for p in client.chat.completions.create_partial(response_model=Person, **kw)]
    if op == "in_iterable" and mode == k["instructor"].Mode.PARALLEL_TOOLS:
        return [p.model_dump() for p in client.chat.completions.create(response_model=Iterable[Person], **kw)]
    if op == "in_iterable":
        return [p.model_dump() for p in client.chat.completions.create_iterable(response_model=Person, **kw)]
    return None


def handle(req: dict[str, Any]) -> dict[str, Any]:
    op = req["op"]
    try:
        result = llama(req) if op.startswith("li_") else instructor_call(req) if op.startswith("in_") else None
        if result is None:
            return unknown_op(op)
        return {"ok": True, "result": result}
    except Exception as e:  # noqa: BLE001 - every failure goes back to the test
        error = error_of(e)
        cause = e
        while cause.__cause__ is not None and not error["status"]:  # instructor wraps the client's error
            cause = cause.__cause__
            if cause is not e:
                inner = error_of(cause)
                error.update({k: v for k, v in inner.items() if k in ("status", "body", "headers") and v})
        return {"ok": False, "error": error}


if __name__ == "__main__":
    serve(handle)
