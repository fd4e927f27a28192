"""moto servers for the test suites (test/integration/support/moto-server.ts), started two ways.

``python zygote.py serve serial|threaded <parent pid>``
    One server in a fresh Python, what startMoto spawns without a zygote. It dies with its parent
    (prctl PR_SET_PDEATHSIG), binds 127.0.0.1 on a free port and prints ``{"port": N}`` on stdout.

``python -S zygote.py zygote <socket path> <parent pid>``
    The zygote: one Python per vitest run (test/support/global-setup.ts starts it) that imports moto
    once, on the first request, and forks a fresh server per startMoto(). A request is one JSON line
    on the unix socket, ``{"serial": bool, "env": {...}}`` (env: the whole environment the server
    would have been spawned with). The answer, on the same connection:
    - ``{"port": N, "pid": P}`` from the forked server once it listens; the connection is then the
      server's lifeline: the server exits when the connection closes (startMoto's stop(), or the test
      worker that holds it dies, killed or not), after writing ``{"cpuSeconds": s}`` when it can;
    - ``{"spawn": reason}`` when the request's environment differs from the zygote's in a variable
      that was read while moto was imported (the forked server would not be what a fresh one is):
      the caller spawns the server itself;
    - ``{"error": text}`` when the server could not start.
    The zygote dies with its parent (PR_SET_PDEATHSIG, and end of file on its stdin), and every forked
    server with the zygote (PR_SET_PDEATHSIG again: the zygote is single-threaded).

What a forked server shares with a fresh one, and why it is the same server:
- The zygote imports only what is pure: moto.server and werkzeug, the backend modules of the
  services the suites use (their models, responses and urls modules; importing a backend module
  builds an empty BackendDict), botocore's service models through moto's own cached
  ``get_service_model``, and boto3's endpoint data and each warmed service's data in botocore's session
  (moto's region lists, read at a service's first account backend). It creates no account or
  region backend, no Flask app of a service (moto's ``create_backend_app`` instantiates the default
  account's backend), and no server.
- Every ``random.Random`` in the zygote is seeded afresh in the child (Python reseeds only the
  ``random`` module's own instance at fork; moto has its own), so ids stay as random as a fresh
  server's.
- The environment: the child's ``os.environ`` is replaced with the request's before moto reads it at
  request time. Variables read at import time cannot be replaced in the child: the zygote records
  every ``os.environ`` read while it imports and warms (site, sitecustomize.py, moto, botocore),
  and refuses (``spawn``) a request whose values of those, or of the variables the interpreter and
  libc read at start (PYTHON*, LANG, LC_*, TZ), differ from its own.
- The server is built as moto's own are: threaded as ``moto.server.main`` (SIGINT/SIGTERM exit,
  ``debug``, ``MOTO_PORT`` set to the port when unset), serial as werkzeug's ``run_simple`` with
  ``threaded=False``; both with ``MotoRequestHandler``, ``WERKZEUG_SERVER_FD`` and werkzeug's start
  log, as ``run_simple`` does. Two differences, for fresh and forked servers alike (so the two stay
  the same server): werkzeug's per-request log line is written only with ``MOTO_LOG=<file>`` set
  (where it goes; errors and tracebacks are always written: 3% of a server's CPU went to lines
  nobody read); and connections are kept alive (tessera_moto_keepalive.py: werkzeug's handler
  closing no connection it need not, serial = a threaded server whose lock runs one request at a
  time; ``TESSERA_MOTO_KEEPALIVE=off`` keeps werkzeug's close after every answer), and their
  request headers parsed without the email package's parser, into the same message
  (tessera_moto_keepalive.py ``parse_headers``; ``TESSERA_MOTO_FAST_HEADERS=off``: with it). Threads start only in the child (the zygote has one thread when it
  forks, so no lock is inherited held).
- The zygote's objects are moved out of the garbage collector's generations (``gc.freeze``) before a
  fork, so the child's collections do not touch (and copy) the pages it shares with the zygote.
  Every server, forked or spawned, runs its collector at ``GC_THRESHOLD`` (a young collection per
  20,000 container allocations instead of 700: 5% of a server's CPU went to the collector, 4% after);
  with ``TESSERA_MOTO_CPU_LOG=<file>`` a forked server appends its collector's CPU seconds and
  collections per generation to the file when it stops.
"""

import gc
import json
import os
import signal
import sys
import threading
import time

#: moto backends whose modules (models, responses, urls) the zygote imports: the services the
#: suites call directly or through CloudFormation stacks. `MOTO_ZYGOTE_TRACE=<file>` appends the
#: service of every app a server creates; the 44 files that start moto, 2026-12-01: moto_api 44,
#: dynamodb 36, sts 23, s3 22, sqs 21, events 21, organizations 17, ssm 16, kms 16,
#: cloudformation 16, apigateway 15, iam 14, rds 13, logs 10, ec2 9, servicequotas 8,
#: secretsmanager 7, cognitoidp 5, ssoadmin 2, dynamodbstreams 2, sagemaker, identitystore, ecr,
#: bedrock, lambda 1 each. cloudformation's import alone pulls in most of moto (0.8 s of CPU).
WARM_BACKENDS = (
    "cloudformation", "dynamodb", "dynamodbstreams", "s3", "organizations", "cognito-idp", "sqs",
    "events", "rds", "iam", "sts", "stepfunctions", "sagemaker", "sso-admin", "secretsmanager", "kms",
    "logs", "service-quotas", "ec2", "ssm", "lambda", "identitystore", "ecr", "backup", "ce",
    "apigateway", "sesv2", "elasticache", "eks", "bedrock", "cloudwatch", "sagemaker-runtime",
    "budgets", "sns", "moto_api",
)

#: botocore service models (moto's get_service_model, cached per process) loaded by the zygote.
WARM_MODELS = (
    "dynamodb", "s3", "organizations", "cognito-idp", "sqs", "events", "rds", "iam", "sts",
    "sagemaker", "kms", "cloudformation", "logs", "secretsmanager", "backup", "ec2", "ssm",
    "service-quotas", "ce", "budgets", "eks", "elasticache", "sso-admin", "identitystore",
    "stepfunctions", "lambda", "ecr", "cloudwatch", "sesv2", "apigateway", "sns", "bedrock", "sagemaker-runtime",
)

def _load_common():
    """test/support/zygote_common.py, what this zygote shares with the Python client drivers' one."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "support", "zygote_common.py")
    spec = importlib.util.spec_from_file_location("zygote_common", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


common = _load_common()
die_with_parent = common.die_with_parent
send = common.send


#: The cyclic garbage collector's thresholds in a server (CPython's are 700, 10, 10). moto builds
#: and drops many container objects per request (parsed requests, DynamoDB items' deep copies,
#: serialized answers) that live across more than 700 allocations: at CPython's threshold they are
#: traversed by a young collection, promoted, and traversed again by the next generation's, though
#: reference counting frees them at the end of the request. At 20,000 most are gone before a
#: collection runs. The collector is not turned off: a cycle is still collected after at most 20,000
#: more container allocations (a few MB), and the old generation as before.
#: ``TESSERA_MOTO_GC_THRESHOLD`` (``a,b,c``, or ``off`` for CPython's) overrides it, for measuring.
GC_THRESHOLD = (20_000, 10, 10)


def gc_threshold(env):
    """The thresholds a server sets (``GC_THRESHOLD`` unless ``TESSERA_MOTO_GC_THRESHOLD`` names others), or None for CPython's."""
    value = env.get("TESSERA_MOTO_GC_THRESHOLD")
    if value == "off":
        return None
    if value:
        return tuple(int(part) for part in value.split(","))
    return GC_THRESHOLD


def serve(serial, on_bound):
    """Runs a moto server on 127.0.0.1, a free port; ``on_bound(port)`` once it listens."""
    threshold = gc_threshold(os.environ)
    if threshold is not None:
        gc.set_threshold(*threshold)
    from werkzeug.serving import _ansi_style, _log, make_server

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from moto.server import MotoRequestHandler, signal_handler

    if not serial:  # moto.server.main
        signal.signal(signal.SIGINT, signal_handler)
        signal.signal(signal.SIGTERM, signal_handler)
    handler = MotoRequestHandler
    if not os.environ.get("MOTO_LOG"):

        class handler(MotoRequestHandler):  # noqa: N801 - moto's handler, its request log off
            """werkzeug's one line per answer (`log_request`) is formatted and written for nobody: a
            forked server's stderr is /dev/null and a spawned one's is kept by moto-server.ts only
            for its start-up errors. Errors and tracebacks (`log_error`, the server's `log`) stay."""

            def log_request(self, code="-", size="-"):
                pass

    keep_alive = None
    if os.environ.get("TESSERA_MOTO_KEEPALIVE") != "off":
        from tessera_moto_keepalive import handler_class, install_fast_headers

        keep_alive = handler_class(handler, serial)
        if keep_alive is not None:
            install_fast_headers()  # http.client.parse_headers without the email parser, same messages (TESSERA_MOTO_FAST_HEADERS=off: without)
    app = DomainDispatcherApplication(create_backend_app)
    if not serial:
        app.debug = True
    trace = os.environ.get("MOTO_ZYGOTE_TRACE")
    if trace:
        create = app.create_app

        def traced(service):
            with open(trace, "a") as f:
                f.write(f"{service}\n")
            return create(service)

        app.create_app = traced
    # run_simple(host, 0, app, threaded=not serial, request_handler=MotoRequestHandler), its steps.
    if keep_alive is not None:  # threaded either way; a serial server's lock runs one request at a time
        srv = make_server("127.0.0.1", 0, app, True, 1, keep_alive, False, None, fd=None)
    else:
        srv = make_server("127.0.0.1", 0, app, not serial, 1, handler, False, None, fd=None)
    if not serial and "MOTO_PORT" not in os.environ:
        os.environ["MOTO_PORT"] = str(srv.port)
    srv.socket.set_inheritable(True)
    os.environ["WERKZEUG_SERVER_FD"] = str(srv.fileno())
    srv.log_startup()
    _log("info", _ansi_style("Press CTRL+C to quit", "yellow"))
    on_bound(srv.port)
    srv.serve_forever()


def spawned(serial, parent_pid):
    die_with_parent(parent_pid)

    def report(port):
        sys.stdout.write(json.dumps({"port": port}) + "\n")
        sys.stdout.flush()

    serve(serial, report)


def warm():
    """Imports and loads what every server would (pure: no backend state). Returns the Random instances."""
    import importlib
    import random

    import moto.backends as backends
    import moto.server  # noqa: F401
    import werkzeug.serving  # noqa: F401
    from moto.core.base_backend import AccountSpecificBackend, BackendDict
    from botocore.exceptions import DataNotFoundError
    from moto.core.routing import get_service_router
    from moto.core.utils import get_pagination_model, get_service_model

    for name in WARM_BACKENDS:
        backend_dict = backends.get_backend(name)
        if isinstance(backend_dict, BackendDict):  # BaseBackend._url_module's import
            module = backend_dict.backend.__module__
            __import__(module.rstrip("models") + "urls", fromlist=["url_bases", "url_paths"])
    for name in WARM_MODELS:
        model = get_service_model(name)
        # What a server otherwise builds at its first answer of the service, each cached per process by
        # moto: the pagination model (moto.core.utils.get_pagination_model: a new botocore loader, which
        # lists every service's data directory, ~15-30 ms) and, for a REST protocol, the operation
        # router (moto.core.routing.get_service_router: werkzeug rules compiled from the model, ~60 ms
        # for API Gateway). Pure: data read from the model, no backend.
        try:
            get_pagination_model(name)
        except DataNotFoundError:  # a service without paginators: moto raises it at the request too
            pass
        if model.protocol in ("rest-json", "rest-xml"):
            get_service_router(name)._get_router(model.protocol)
    # moto's one private JWK for Cognito user pools, imported (~80 ms): with the patches
    # (tessera_moto_patches.patch_cognito_pool_key_once) every forked server's pools share this import.
    from moto.cognitoidp import models as cognito_models
    from moto.utilities.utils import load_resource

    cognito_models.jwk.RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))
    session = AccountSpecificBackend.get_session()
    for partition in session.get_available_partitions():
        session.get_available_regions("s3", partition_name=partition)
    # Each warmed service's region lists (AccountSpecificBackend._generate_regions, at a service's first
    # account backend): botocore's session loads the service's data for them (its service-2.json, parsed)
    # and keeps it; done here, every forked server reads it from the zygote instead of loading it again
    # (~140 ms of CPU for the first backends of the 20 services the suites use most).
    for name in WARM_BACKENDS:
        backend_dict = backends.get_backend(name)
        if isinstance(backend_dict, BackendDict) and backend_dict._use_boto3_regions:
            for partition in session.get_available_partitions():
                session.get_available_regions(backend_dict.service_name, partition_name=partition)
    importlib.invalidate_caches()
    gc.collect()
    # type(), not isinstance(): isinstance reads __class__, which lazy proxies (openapi_spec_validator) load on.
    return [o for o in gc.get_objects() if issubclass(type(o), random.Random)]


def read_request(conn):
    conn.settimeout(30)
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk or len(data) > 16 * 1024 * 1024:
            raise ValueError("incomplete request")
        data += chunk
    conn.settimeout(None)
    return json.loads(data)


def child(conn, request, zygote_pid, randoms):
    """The forked server: never returns."""
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        die_with_parent(zygote_pid)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        log = request["env"].get("MOTO_LOG")
        os.dup2(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644) if log else null, 2)
        os.environ.clear()
        os.environ.update(request["env"])
        for r in randoms:
            r.seed()

        gc_log = request["env"].get("TESSERA_MOTO_CPU_LOG")
        gc_time = [0.0, 0.0, 0, 0, 0]  # CPU seconds in the collector, start of the current one, collections per generation
        if gc_log:  # measuring only: the collector's share of this server's CPU

            def on_gc(phase, info):
                if phase == "start":
                    gc_time[1] = time.thread_time()
                else:
                    gc_time[0] += time.thread_time() - gc_time[1]
                    gc_time[2 + info["generation"]] += 1

            gc.callbacks.append(on_gc)

        def lifeline():
            try:
                while conn.recv(4096):
                    pass
            except OSError:
                pass
            times = os.times()
            cpu = round(times.user + times.system, 3)
            if gc_log:
                try:
                    with open(gc_log, "a") as f:
                        f.write(json.dumps({"motoPid": os.getpid(), "serial": request["serial"], "cpuSeconds": cpu, "gcSeconds": round(gc_time[0], 3), "gcCollections": gc_time[2:], "gcThreshold": gc.get_threshold()}) + "\n")
                except OSError:  # a log that cannot be written is no reason to stay alive
                    pass
            probe = sys.modules.get("tessera_moto_probe")  # TESSERA_MOTO_PROBE: measuring only
            if probe is not None:
                probe.dump_profile()  # os._exit runs no atexit
            send(conn, {"cpuSeconds": cpu})
            os._exit(0)

        threading.Thread(target=lifeline, name="moto-zygote-lifeline", daemon=True).start()
        serve(request["serial"], lambda port: send(conn, {"port": port, "pid": os.getpid()}))
    except SystemExit as exit:  # SIGTERM or SIGINT to a threaded server (moto.server's handler)
        os._exit(exit.code if isinstance(exit.code, int) else 1)
    except BaseException as error:  # noqa: BLE001 - reported to the caller, then gone
        import traceback

        send(conn, {"error": f"{error!r}\n{traceback.format_exc()}"})
    finally:
        os._exit(1)


def zygote(socket_path, parent_pid):
    die_with_parent(parent_pid)
    common.record_environ_reads()
    import site

    site.main()  # what `python` without -S does at start (sys.path, sitecustomize.py), recorded
    state = {}  # after the first request's warm-up: the Random instances, the environment and what counts in it

    def handle(conn, close_server):
        try:
            request = read_request(conn)
            if "randoms" not in state:
                state["randoms"] = warm()
                state["own_env"], state["compared"] = common.stop_recording()
            differ = common.differing(request["env"], state["own_env"], state["compared"])
            if differ:
                send(conn, {"spawn": "read at import time, differs from the zygote's: " + ", ".join(differ)})
                return None
            gc.freeze()
            zygote_pid = os.getpid()
            if os.fork() == 0:
                close_server()
                child(conn, request, zygote_pid, state["randoms"])
        except Exception as error:  # noqa: BLE001 - one bad request does not end the zygote
            send(conn, {"error": repr(error)})
        finally:
            conn.close()
        return None

    common.serve_requests(socket_path, handle)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        spawned(sys.argv[2] == "serial", int(sys.argv[3]))
    elif sys.argv[1] == "zygote":
        zygote(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(f"usage: {sys.argv[0]} serve serial|threaded <parent pid> | zygote <socket> <parent pid>")
