"""The official OpenAI Python client and the OpenAI Agents SDK, driven over JSON lines against the
gateway's Responses API (`/v1/responses`). The chat-completions twin is driver.py.

One long-lived process per test file (spawned with `.venv/bin/python`). Requests come one per
line on stdin:

    {"id": 1, "op": "create" | "stream" | "parse" | "retrieve" | "delete" | "input_items" | "agent",
     "base_url": "...", "api_key": "...", "params": {...}, "schema": {"name", "schema"}?,
     "response_id": "resp_..."?}

and each gets one line on stdout: {"id": 1, "ok": true, "result": ..., "events"?: [...],
"parsed"?: ...} or {"id": 1, "ok": false, "error": {"status", "body", "headers", "type", "message"}}.

- create: `client.responses.create(**params)`; result = the Response (`exclude_unset`), plus
  `output_text` (the SDK's convenience property).
- stream: `client.responses.stream(**params)` (the SDK's helper, which accumulates the events into
  the final response and raises on a malformed order); events = every event as dumped,
  result = `get_final_response()`.
- parse: `client.responses.parse(text_format=<pydantic model from schema>, **params)`;
  parsed = `output_parsed`.
- retrieve / delete / input_items: `client.responses.retrieve(id, **params)` (`include`), `.delete(id)` (result null),
  `.input_items.list(id, **params)` (result = the page: data, first_id, last_id, has_more).
- agent: the Agents SDK (`agents.Agent` with one function tool `get_weather(city)`,
  `OpenAIResponsesModel` on an `AsyncOpenAI` client pointed at the gateway, tracing disabled)
  (its `model_settings` `ModelSettings(truncation=params.truncation)` when given) runs `params.input` (a string
  or a list of input items) with `Runner.run` (`Runner.run_streamed` when `params.stream`, every
  event consumed); result = {final_output, tool_calls: [city, ...],
  responses: [response ids of each model call]}.
- The first line written is {"ready": true}, once the imports are done. The Agents SDK (about
  1.5 s of CPU to import) is imported by the first `agent` request, so the files that never ask
  for one do not pay for it; it is set up the same way either way (tracing disabled).
"""

from __future__ import annotations

import asyncio
import json
import warnings
from typing import Any

from openai import AsyncOpenAI, OpenAI

from driver_io import client_for, dump, error_of, model_from_schema, serve, unknown_op

warnings.filterwarnings("ignore", message="Pydantic serializer warnings")


def with_text(response: Any) -> dict[str, Any]:
    out = dump(response)
    out["output_text"] = response.output_text
    return out


def run_stream(c: OpenAI, params: dict[str, Any]) -> dict[str, Any]:
    events: list[Any] = []
    params.pop("stream", None)
    try:
        with c.responses.stream(**params) as stream:
            for event in stream:
                events.append(event.model_dump(mode="json", exclude_unset=True, exclude={"snapshot", "parsed"}))
            final = stream.get_final_response()
    except Exception as e:  # noqa: BLE001 - every failure goes back to the test
        return {"ok": False, "events": events, "error": error_of(e)}
    return {"ok": True, "events": events, "result": with_text(final)}


def run_parse(c: OpenAI, req: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    schema = req["schema"]
    model = model_from_schema(schema["name"], schema["schema"])
    response = c.responses.parse(text_format=model, **params)
    parsed = response.output_parsed
    return {"ok": True, "parsed": parsed.model_dump(mode="json") if parsed else None, "result": with_text(response)}


async def run_agent(req: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    from agents import Agent, CustomTool, ModelSettings, OpenAIResponsesModel, Runner, function_tool, set_tracing_disabled

    # No trace export: there is no network here, and the gateway is the system under test.
    set_tracing_disabled(True)
    calls: list[str] = []

    @function_tool
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        calls.append(city)
        return json.dumps({"city": city, "temp_c": 3, "sky": "sunny"})

    def apply_patch(_ctx: Any, patch: str) -> str:
        calls.append(patch)
        return f"applied {len(patch)} characters"

    # params["tool"] == "custom": a free-form custom tool (the Responses API's `custom` tool, GPT-5's apply_patch style)
    # instead of the weather function, with a grammar format when params["format"] gives one.
    tool = (
        CustomTool(name="apply_patch", description="Applies a patch to the repository", on_invoke_tool=apply_patch, format=params.get("format"))
        if params.get("tool") == "custom"
        else get_weather
    )
    client = AsyncOpenAI(base_url=req["base_url"], api_key=req["api_key"], max_retries=0, timeout=20)
    agent = Agent(
        name="Weather agent",
        instructions=params.get("instructions", "Answer with the weather tool."),
        tools=[tool],
        model=OpenAIResponsesModel(model=params["model"], openai_client=client),
        # ModelSettings(truncation=...) when the test asks: the SDK sends it as the Responses request's `truncation`.
        model_settings=ModelSettings(truncation=params["truncation"]) if "truncation" in params else ModelSettings(),
    )
    try:
        if params.get("stream"):
            result = Runner.run_streamed(agent, params["input"])
            async for _event in result.stream_events():
                pass
        else:
            result = await Runner.run(agent, params["input"])
    finally:
        await client.close()
    return {
        "ok": True,
        "result": {
            "final_output": result.final_output,
            "tool_calls": calls,
            "responses": [r.response_id for r in result.raw_responses],
        },
    }


def handle(req: dict[str, Any]) -> dict[str, Any]:
    c = client_for(req["base_url"], req["api_key"])
    params = dict(req.get("params") or {})
    op = req["op"]
    try:
        if op == "create":
            params.pop("stream", None)
            return {"ok": True, "result": with_text(c.responses.create(**params))}
        if op == "stream":
            return run_stream(c, params)
        if op == "parse":
            return run_parse(c, req, params)
        if op == "retrieve":
            return {"ok": True, "result": with_text(c.responses.retrieve(req["response_id"], **params))}
        if op == "delete":
            return {"ok": True, "result": c.responses.delete(req["response_id"])}
        if op == "input_items":
            page = c.responses.input_items.list(req["response_id"], **params)
            return {"ok": True, "result": {"data": [dump(i) for i in page.data], "first_id": page.first_id, "last_id": page.last_id, "has_more": page.has_more}}
        if op == "agent":
            return asyncio.run(run_agent(req, params))
        return unknown_op(op)
    except Exception as e:  # noqa: BLE001 - every failure goes back to the test
        return {"ok": False, "error": error_of(e)}


if __name__ == "__main__":
    serve(handle)
