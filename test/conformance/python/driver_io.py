"""What the conformance drivers (driver.py, embeddings_driver.py, responses_driver.py) share: the
JSON-lines loop, the client cache, keyword/`extra_body` splitting, dumping, pydantic models from
JSON schemas, and the error shape the TypeScript side reads.

The protocol: the first line written is {"ready": true}; then each request line on stdin
({"id", "op", "base_url", "api_key", ...}) gets exactly one line on stdout, the handler's dict with
the request's "id" added. A handler returns {"ok": true, ...} or {"ok": false, "error": {"status",
"body", "headers", "type", "message"}}; a request the handler cannot even read (bad JSON, a missing
key) answers a "DriverError" with the traceback, and the driver keeps going.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import traceback
from typing import Any, Callable, List, Optional


def bytecode_cache() -> None:
    """Bytecode under `.tessera/python-cache/` of this checkout when the environment forbids writing it beside the
    sources (PYTHONDONTWRITEBYTECODE, as this machine's does, and no PYTHONPYCACHEPREFIX): else every driver compiles
    openai, pydantic, langchain_core, langsmith and pydantic_ai from source at each start (1,400 modules, ~0.5 s of
    CPU for the LangChain driver). What moto's Python does (test/integration/support/moto-python/sitecustomize.py), and
    the run's zygote before its warm-up (test/support/python-zygote.py), whose drivers inherit the setting. A .pyc is
    used only while its source's size and modification time are the ones it was compiled from.
    `TESSERA_PYTHON_PYCACHE=off`, or a prefix of one's own, leaves Python's settings alone. One cache per interpreter:
    `python-cache` for `.venv`'s, `python-cache-venv-legacy-clients` for `.venv-legacy-clients`' (as the zygote's)."""
    if not sys.dont_write_bytecode or sys.pycache_prefix is not None or os.environ.get("TESSERA_PYTHON_PYCACHE") == "off":
        return
    root = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
    venv = os.path.basename(os.path.normpath(sys.prefix))
    sys.pycache_prefix = os.path.join(root, ".tessera", "python-cache" if venv == ".venv" else "python-cache-" + venv.lstrip("."))
    sys.dont_write_bytecode = False


bytecode_cache()

import openai  # noqa: E402
import pydantic  # noqa: E402
from openai import OpenAI

class BackgroundImport:
    """A framework a driver imports in a thread beside its JSON-lines loop (LangChain's and Pydantic AI's imports take
    ~1 s of CPU: they overlap the gateway's start instead of delaying {"ready": true}). `load` fills `names` (the
    framework's classes the handlers use); `start()` before the loop; `names_loaded()` waits for the thread and, if
    the import failed there, imports in the caller's thread, so the handler meets the import's own error."""

    def __init__(self, load: Callable[[], None], names: dict[str, Any]) -> None:
        self._load = load
        self._names = names
        self._thread = threading.Thread(target=load, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def names_loaded(self) -> dict[str, Any]:
        self._thread.join()
        if not self._names:
            self._load()
        return self._names


_clients: dict[tuple[str, str], OpenAI] = {}


def client_for(base_url: str, api_key: str) -> OpenAI:
    """One client per (base_url, api_key), without retries (every upstream call the gateway makes is its own), 20 s timeout."""
    key = (base_url, api_key)
    if key not in _clients:
        _clients[key] = OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=20)
    return _clients[key]


def split_params(params: dict[str, Any], named_params: set[str]) -> dict[str, Any]:
    """Params the client names as keyword arguments, any other through `extra_body`, as an application would."""
    named = {k: v for k, v in params.items() if k in named_params}
    extra = {k: v for k, v in params.items() if k not in named_params}
    if extra:
        named["extra_body"] = extra
    return named


def dump(obj: Any) -> Any:
    """What the application sees: the client's pydantic object with the fields the answer set, extras included."""
    return obj.model_dump(mode="json", exclude_unset=True)


_TYPES = {"string": str, "integer": int, "number": float, "boolean": bool}


def field_type(schema: dict[str, Any], name: str) -> Any:
    kind = schema.get("type")
    if kind in _TYPES:
        return _TYPES[kind]
    if kind == "array":
        return List[field_type(schema.get("items", {}), name)]  # type: ignore[misc]
    if kind == "object":
        return model_from_schema(schema.get("title") or name.title().replace("_", ""), schema)
    raise ValueError(f"the driver cannot build a pydantic field for the schema {schema!r}")


def model_from_schema(name: str, schema: dict[str, Any]) -> type[pydantic.BaseModel]:
    """A pydantic model for an object schema: its properties, required ones without default."""
    required = set(schema.get("required", []))
    fields: dict[str, Any] = {}
    for prop, sub in schema.get("properties", {}).items():
        t = field_type(sub, prop)
        fields[prop] = (t, ...) if prop in required else (Optional[t], None)
    return pydantic.create_model(name, **fields)  # type: ignore[call-overload]


def error_of(e: BaseException) -> dict[str, Any]:
    """The error as the test reads it: status, body and lower-cased headers for an API error, type and message always."""
    out: dict[str, Any] = {"type": type(e).__name__, "message": str(e), "status": None, "body": None, "headers": {}}
    if isinstance(e, openai.APIStatusError):
        out["status"] = e.status_code
        out["body"] = e.body
        out["headers"] = {k.lower(): v for k, v in e.response.headers.items()}
        out["message"] = e.message
    elif isinstance(e, openai.APIError):
        out["body"] = e.body
        out["message"] = e.message
    return out


def driver_error(message: str) -> dict[str, Any]:
    """A failure of the driver itself (unknown op, unreadable request), in the error shape."""
    return {"ok": False, "error": {"type": "DriverError", "message": message, "status": None, "body": None, "headers": {}}}


def unknown_op(op: Any) -> dict[str, Any]:
    return driver_error(f"unknown op {op!r}")


def serve(handle: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Writes {"ready": true}, then answers each request line on stdin with `handle`'s dict plus the request's id."""
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req: dict[str, Any] = {}
        try:
            req = json.loads(line)
            out = handle(req)
        except Exception as e:  # noqa: BLE001 - a broken request must not end the driver
            out = driver_error("".join(traceback.format_exception(e)))
        out["id"] = req.get("id")
        print(json.dumps(out), flush=True)
