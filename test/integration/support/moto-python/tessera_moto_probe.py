"""A measuring and recording wrapper around moto's WSGI app, for looking at moto, never on in a
normal run. sitecustomize.py imports it only when `TESSERA_MOTO_PROBE` names a directory.

For every request the server answers it appends one JSON line to `<dir>/moto-<pid>.jsonl`:
`service`, `action` (from the SigV4 credential scope and X-Amz-Target / `Action=` / method and
path), `cpuMs` (`time.thread_time()` of the request: moto's server answers on the thread that
calls the app), `wallMs`, `status`, `gcMs` (CPU in Python's cyclic garbage collector during it), and with `TESSERA_MOTO_RECORD=1` also the response headers
and body (latin-1 text of the bytes) plus the request's method, path, query and body, for
diffing two runs (scripts under test/integration/support/moto-python/tools/).
With `TESSERA_MOTO_RECORD=1` moto's random source is seeded (`TESSERA_MOTO_SEED`, default 1) so
that two runs of the same request sequence get the same generated ids.
With `TESSERA_MOTO_CPROFILE=1` a cProfile runs during requests only, written to
`<dir>/moto-<pid>.prof` every 100 requests and at exit (SIGTERM exits through atexit; a server
the zygote forked, zygote.py, writes it when its lifeline closes, since it leaves by os._exit).
In a vitest run the probe's servers are forked by the zygote (imported there by sitecustomize.py;
files are per process and opened at a server's first request), except with `TESSERA_MOTO_RECORD=1`,
whose seeding the fork would undo (moto-zygote.ts `motoZygoteDisabled`).
"""
import atexit
import gc
import json
import os
import signal
import sys
import time
from urllib.parse import parse_qs

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_DIR = os.environ["TESSERA_MOTO_PROBE"]
_RECORD = os.environ.get("TESSERA_MOTO_RECORD") == "1"
_PROFILE = None
if os.environ.get("TESSERA_MOTO_CPROFILE") == "1":
    import cProfile

    _PROFILE = cProfile.Profile()

os.makedirs(_DIR, exist_ok=True)
_out = None
_count = 0

if _RECORD:
    from moto.moto_api._internal import mock_random

    mock_random.seed(int(os.environ.get("TESSERA_MOTO_SEED", "1")))


def _file():
    global _out
    if _out is None:
        _out = open(os.path.join(_DIR, f"moto-{os.getpid()}.jsonl"), "a", encoding="utf-8")
    return _out


def dump_profile():
    """Writes the profile so far to `<dir>/moto-<pid>.prof` (with `TESSERA_MOTO_CPROFILE=1`; else nothing)."""
    if _PROFILE is not None:
        _PROFILE.dump_stats(os.path.join(_DIR, f"moto-{os.getpid()}.prof"))


def _classify(environ, body):
    auth = environ.get("HTTP_AUTHORIZATION", "")
    service = "?"
    if "Credential=" in auth:
        try:
            service = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")[3]
        except IndexError:
            pass
    path = environ.get("PATH_INFO", "")
    if path.startswith("/moto-api"):
        return "moto-api", path
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.rsplit(".", 1)[-1]
    for source in (environ.get("QUERY_STRING", ""), body.decode("latin-1") if body and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded") else ""):
        action = parse_qs(source).get("Action")
        if action:
            return service, action[0]
    segments = [s for s in path.split("/") if s]
    return service, f"{environ.get('REQUEST_METHOD')} /{segments[0] if segments else ''}{'/…' if len(segments) > 1 else ''}"


_gc = {"ms": 0.0, "start": 0.0}


def _gc_callback(phase, info):
    if phase == "start":
        _gc["start"] = time.thread_time()
    else:
        _gc["ms"] += (time.thread_time() - _gc["start"]) * 1000


gc.callbacks.append(_gc_callback)

_original_call = DomainDispatcherApplication.__call__


def _call(self, environ, start_response):
    global _count
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    import io

    environ["wsgi.input"] = io.BytesIO(body)
    service, action = _classify(environ, body)
    captured = {}

    def _start(status, headers, exc_info=None):
        captured["status"] = status
        captured["headers"] = headers
        return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

    gc_before = _gc["ms"]
    wall0 = time.perf_counter()
    cpu0 = time.thread_time()
    if _PROFILE is not None:
        _PROFILE.enable()
    try:
        chunks = list(_original_call(self, environ, _start))
    finally:
        if _PROFILE is not None:
            _PROFILE.disable()
    cpu = time.thread_time() - cpu0
    wall = time.perf_counter() - wall0
    row = {"service": service, "action": action, "cpuMs": round(cpu * 1000, 3), "wallMs": round(wall * 1000, 3), "status": captured.get("status"), "gcMs": round(_gc["ms"] - gc_before, 3)}
    if _RECORD:
        data = b"".join(chunks)
        row.update(
            method=environ.get("REQUEST_METHOD"),
            path=environ.get("PATH_INFO"),
            query=environ.get("QUERY_STRING"),
            requestBody=body.decode("latin-1"),
            headers=captured.get("headers"),
            body=data.decode("latin-1"),
        )
    _file().write(json.dumps(row) + "\n")
    _file().flush()
    _count += 1
    if _PROFILE is not None and _count % 100 == 0:
        dump_profile()
    return chunks


DomainDispatcherApplication.__call__ = _call
atexit.register(dump_profile)


def _exit_on_term(signum, frame):
    sys.exit(0)


signal.signal(signal.SIGTERM, _exit_on_term)
