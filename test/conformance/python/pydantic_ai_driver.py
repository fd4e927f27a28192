"""Pydantic AI (`pydantic-ai-slim[openai]`) agents, driven over JSON lines against the gateway, as an
application built on Pydantic AI calls it. The LangChain twin is langchain_driver.py; same protocol,
same error shape (driver_io.py).

One long-lived process per test file. Requests, one per line on stdin:

    {"id": 1, "op": "run" | "stream", "base_url": "...", "api_key": "...", "model": "...",
     "api": "chat" | "responses", "prompt": "...", "instructions"?: "...", "tools"?: true,
     "output"?: "text" | "tool" | "native" | "prompted", "settings"?: {...ModelSettings...},
     "agent_retries"?: n}

- The model is `OpenAIChatModel` (api "chat", the default: POST /chat/completions) or
  `OpenAIResponsesModel` (api "responses": POST /responses), on `OpenAIProvider(base_url, api_key)`.
- `tools`: the agent has two tools, `get_weather(query: WeatherQuery)` (a pydantic argument; answers
  {"city", "temp_c": 3, "unit"}) and `utc_offset(city: str)` (`@agent.tool_plain`; answers 1), so a
  model that calls one, then the other, then answers runs a multi-step tool loop.
- `output`: the agent's `output_type`: text (str, the default), or the pydantic `Person` model in
  Pydantic AI's default tool-output mode ("tool"), as `NativeOutput(Person)` (response_format
  json_schema) or as `PromptedOutput(Person)` (the schema in the instructions).
- `settings`: `ModelSettings` (temperature, max_tokens, seed, parallel_tool_calls, extra_body,
  max_retries...); `max_retries` (the openai SDK's retries, which Pydantic AI forwards) is 0 unless given.
- `run`: `agent.run_sync(prompt)`. `stream`: `agent.run_stream(prompt)`, the text deltas
  (`stream_text(delta=True, debounce_by=None)`) or, for a structured output, the partial outputs
  (`stream_output(debounce_by=None)`),
  then the final output.

Each request gets one line on stdout: {"id", "ok": true, "result": {output, usage, messages,
deltas?}} (`usage` = `result.usage()` as a dict; `messages` = `result.all_messages()` as
ModelMessagesTypeAdapter dumps them), or {"id", "ok": false, "error": {"status", "body", "headers",
"type", "message"}}: for a `ModelHTTPError` the status is its `status_code`, the body its `body`.

Start: as the LangChain driver, through the run's zygote; Pydantic AI's own import (~0.9 s of CPU)
runs in a thread started with the loop, so it overlaps the gateway's start; the first request waits
for it. Logfire instrumentation is not enabled: the gateway is the only endpoint.
"""

from __future__ import annotations

import asyncio
from typing import Any

from driver_io import BackgroundImport, error_of, serve, unknown_op

pa: dict[str, Any] = {}


def import_pydantic_ai() -> None:
    """Pydantic AI's classes and the driver's pydantic models, into `pa`."""
    from typing import Literal

    import pydantic
    from pydantic_ai import Agent, NativeOutput, PromptedOutput
    from pydantic_ai.exceptions import ModelHTTPError
    from pydantic_ai.messages import ModelMessagesTypeAdapter
    from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
    from pydantic_ai.providers.openai import OpenAIProvider

    class Person(pydantic.BaseModel):
        """A person mentioned in the text."""

        name: str = pydantic.Field(description="The person's name")
        age: int = pydantic.Field(description="The person's age in years")

    class WeatherQuery(pydantic.BaseModel):
        """Which city, in which unit."""

        city: str = pydantic.Field(description="The city, e.g. Oslo")
        unit: Literal["c", "f"] = "c"

    # the tools' annotations are strings (`from __future__ import annotations`), resolved in this module's globals
    globals()["WeatherQuery"] = WeatherQuery
    pa.update(
        Agent=Agent, NativeOutput=NativeOutput, PromptedOutput=PromptedOutput, ModelHTTPError=ModelHTTPError,
        ModelMessagesTypeAdapter=ModelMessagesTypeAdapter, OpenAIChatModel=OpenAIChatModel,
        OpenAIResponsesModel=OpenAIResponsesModel, OpenAIProvider=OpenAIProvider, Person=Person, WeatherQuery=WeatherQuery,
    )


importer = BackgroundImport(import_pydantic_ai, pa)


def pydantic_ai() -> dict[str, Any]:
    """`pa`, once the import thread finished (driver_io.BackgroundImport)."""
    return importer.names_loaded()


_providers: dict[tuple[str, str], Any] = {}


def provider_for(base_url: str, api_key: str) -> Any:
    """One `OpenAIProvider(base_url, api_key)` per gateway and key, as an application keeps its provider and builds
    agents on it. Each new provider makes its own HTTP client, whose SSL context loads the CA bundle (~16 ms of CPU;
    46 runs in pydantic-ai.test.ts); Pydantic AI replaces that client itself when a run comes on another event loop
    (`stream` runs each on its own, `asyncio.run`) or the client was closed (providers/__init__.py `_refresh_http_client`)."""
    key = (base_url, api_key)
    if key not in _providers:
        _providers[key] = pydantic_ai()["OpenAIProvider"](base_url=base_url, api_key=api_key)
    return _providers[key]


def agent_for(req: dict[str, Any]) -> Any:
    """The request's Agent: its model class on the gateway, output type, tools, instructions and settings."""
    k = pydantic_ai()
    provider = provider_for(req["base_url"], req["api_key"])
    model_class = k["OpenAIResponsesModel"] if req.get("api") == "responses" else k["OpenAIChatModel"]
    model = model_class(req["model"], provider=provider)
    output = req.get("output") or "text"
    output_type: Any = {"text": str, "tool": k["Person"], "native": k["NativeOutput"](k["Person"]), "prompted": k["PromptedOutput"](k["Person"])}[output]
    settings = {"max_retries": 0, "timeout": 20, **(req.get("settings") or {})}
    agent = k["Agent"](model, output_type=output_type, instructions=req.get("instructions"), model_settings=settings, retries=req.get("agent_retries", 1))
    if req.get("tools"):
        @agent.tool_plain
        def get_weather(query: WeatherQuery) -> dict[str, Any]:  # type: ignore[name-defined]  # noqa: F821
            """Get the current weather in a city."""
            return {"city": query.city, "temp_c": 3, "unit": query.unit}

        @agent.tool_plain
        def utc_offset(city: str) -> int:
            """The UTC offset of a city, in hours."""
            return 1

    return agent


def outcome(result: Any) -> dict[str, Any]:
    """What the application reads of a finished run: output, usage, the whole message history."""
    k = pydantic_ai()
    output = result.output
    return {
        "output": output.model_dump(mode="json") if hasattr(output, "model_dump") else output,
        "usage": _usage(result.usage()),
        "messages": k["ModelMessagesTypeAdapter"].dump_python(result.all_messages(), mode="json"),
    }


def _usage(u: Any) -> dict[str, Any]:
    return {"requests": u.requests, "tool_calls": u.tool_calls, "input_tokens": u.input_tokens, "output_tokens": u.output_tokens, "total_tokens": u.total_tokens, "details": dict(u.details)}


async def run_stream(req: dict[str, Any], deltas: list[Any]) -> dict[str, Any]:
    """The `stream` op: text deltas (or partial structured outputs) as they come, then the outcome."""
    agent = agent_for(req)
    async with agent.run_stream(req["prompt"]) as result:
        if (req.get("output") or "text") == "text":
            async for delta in result.stream_text(delta=True, debounce_by=None):
                deltas.append(delta)
        else:
            async for partial in result.stream_output(debounce_by=None):
                deltas.append(partial.model_dump(mode="json") if hasattr(partial, "model_dump") else partial)
        out = {"output": None}
        final = await result.get_output()
        out["output"] = final.model_dump(mode="json") if hasattr(final, "model_dump") else final
    out["usage"] = _usage(result.usage())
    out["messages"] = pydantic_ai()["ModelMessagesTypeAdapter"].dump_python(result.all_messages(), mode="json")
    out["deltas"] = deltas
    return out


def pa_error(e: BaseException) -> dict[str, Any]:
    """`error_of`, with a ModelHTTPError's status_code, body and headers."""
    out = error_of(e)
    k = pydantic_ai()
    if isinstance(e, k["ModelHTTPError"]):
        out.update(status=e.status_code, body=e.body, headers=e.headers or {}, message=str(e))
    cause = e.__cause__
    out["cause_type"] = type(cause).__name__ if cause is not None else None
    return out


def handle(req: dict[str, Any]) -> dict[str, Any]:
    op = req["op"]
    deltas: list[Any] = []
    try:
        if op == "run":
            return {"ok": True, "result": outcome(agent_for(req).run_sync(req["prompt"]))}
        if op == "stream":
            return {"ok": True, "result": asyncio.run(run_stream(req, deltas))}
        return unknown_op(op)
    except Exception as e:  # noqa: BLE001 - every failure goes back to the test
        return {"ok": False, "error": pa_error(e), **({"deltas": deltas} if op == "stream" else {})}


if __name__ == "__main__":
    importer.start()  # prints nothing: {"ready": true} goes out at once, the import runs beside the loop
    serve(handle)
