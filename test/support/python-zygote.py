"""The Python client drivers of the test suites, forked from one Python that imported ``openai`` once.

``python -S python-zygote.py zygote <socket path> <parent pid> [module...]``
    The zygote: one per vitest run and driver interpreter (test/support/global-setup.ts starts one
    for ``.venv`` and one for ``.venv-legacy-clients`` through python-zygote.ts: the same code, the
    interpreter is the parameter). On its first request it imports ``openai``, ``pydantic`` and the
    client's HTTP transports (0.5-0.6 s of CPU, what every driver paid at its start), builds the
    client's deferred models that most drivers use (``DRIVER_MODELS``), and imports the modules named after the pid
    (LlamaIndex and instructor for the legacy clients' venv) with ``os.environ`` recording the names
    read, and it forks a driver per request.
    It dies with its parent (PR_SET_PDEATHSIG, and end of file on its stdin).

``python -S -I python-zygote.py run <socket variable> <script> [args...]``
    The launcher, what the tests spawn instead of ``python <script> [args...]`` (python-zygote.ts
    ``pythonScriptCommand``): a bare Python (-S -I: ~15 ms) that is the test's child process, with
    its pipes, exit code and signals. It connects to the zygote whose socket is in the variable named
    (``TESSERA_PYTHON_ZYGOTE``, ``TESSERA_PYTHON_ZYGOTE_LEGACY_CLIENTS``), sends its
    argv, cwd and whole environment with its file descriptors 0-2 (SCM_RIGHTS), and the zygote forks
    a waiter that forks the driver: the driver's stdin, stdout and stderr are the launcher's own pipes.
    The launcher forwards SIGTERM, SIGINT and SIGHUP to the driver and ends as it ended: the same exit
    code, or the same signal. When the launcher ends any other way (SIGKILL), the waiter reads end of
    file on its connection and SIGKILLs the driver. When the zygote is not there, or the request's
    environment differs from the zygote's in a variable read while it imported (the forked driver
    would not be what a fresh one is), the launcher execs ``<python> <script> [args...]``: the driver
    as spawned, in the same process.

What a forked driver has, as a fresh ``python <script>`` does: ``sys.argv``; ``sys.path[0]`` the
script's directory and the rest of ``sys.path`` as site made it; the request's ``os.environ`` and
working directory; new ``sys.stdin``/``stdout``/``stderr`` on fds 0-2, made as CPython's
create_stdio makes them (buffering from -u/PYTHONUNBUFFERED, line buffering on a tty and for
stderr; the zygote's encodings and error handlers, which come from the variables compared); the default SIGCHLD disposition; ``__main__`` the script's own module; an uncaught
exception printed by the interpreter and exit code 1, ``sys.exit`` and atexit as usual. The
zygote's objects are moved out of the collector's generations (``gc.freeze``) before a fork, so a
driver's collections do not copy the pages it shares with the zygote. The zygote declines (the
launcher runs a fresh Python) when a module beside the script would shadow one it imported.

What differs from a fresh Python, known and left: an uncaught exception's traceback has one more
frame at its top (this file's ``exec``); ``sys.flags.no_site``, ``sys.orig_argv`` and the process's
command line are the zygote's; every driver has the zygote's string-hash seed (set and dict order
of strings repeats from one driver to the next); a driver's own children do not die with it when it
is killed (PR_SET_PDEATHSIG reaches the driver only, as a fresh Python's children would not either); a driver that
ends normally or by ``sys.exit(<int or None>)`` leaves without the interpreter's finalization (``run_driver``: threads
joined, atexit callbacks run and stdio flushed as Python does, but ``__del__`` of objects still alive does not run,
which Python does not promise either).

What a driver costs: the waiter logs each driver's CPU (its rusage at ``wait4``) to ``driver-cpu.jsonl`` beside the
socket under the launcher's parent pid, which test/support/cpu-log.ts adds to the test file's figures
(python-zygote.ts ``forkedDriverCpuSeconds``); ``TESSERA_PYTHON_DRIVER_CPU_LOG=<file>`` in vitest's environment
appends the lines there too. ``TESSERA_PYTHON_DRIVER_PROFILE=<directory>`` in a driver's environment writes its main
thread's cProfile to ``<directory>/<script>-<pid>.prof`` at its exit.
"""

import json
import os
import signal
import socket
import sys

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

#: test/support/zygote_common.py (what this zygote shares with moto's), imported by the zygote only:
#: the launcher runs with -I, without this directory on sys.path, and needs none of it.
common = None


class Lines:
    """The JSON lines a connection brings, one at a time: the waiter's pid and the driver's status
    can arrive in one read (a driver that ends at once), so a line is split off a buffer."""

    def __init__(self, conn):
        self.conn = conn
        self.buffer = b""

    def next(self):
        """The next line's value; None when the connection ends first."""
        while b"\n" not in self.buffer:
            chunk = self.conn.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)


def send(conn, message):
    try:
        conn.sendall((json.dumps(message) + "\n").encode())
    except OSError:
        pass


# ---------------------------------------------------------------------------------------------
# launcher


def dispositions():
    """This Python's signal dispositions as a fresh one has them (inherited SIG_IGN, Python's own handlers)."""
    out = {}
    for sig in signal.valid_signals():
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            continue
        handler = signal.getsignal(sig)
        if handler is signal.SIG_IGN:
            out[int(sig)] = "ignore"
        elif handler is signal.default_int_handler:
            out[int(sig)] = "interrupt"
        elif handler is signal.SIG_DFL:
            out[int(sig)] = "default"
    return out


def launch(variable, argv):
    """Runs ``argv`` (script and arguments) through the zygote whose socket is in the environment
    variable ``variable``, or execs a fresh Python with it."""
    python = sys.executable
    path = os.environ.get(variable)
    conn = None
    if path:
        try:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.connect(path)
            request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "signals": dispositions(), "parentPid": os.getppid()}
            socket.send_fds(conn, [(json.dumps(request) + "\n").encode()], [0, 1, 2])
            lines = Lines(conn)
            answer = lines.next()
        except (OSError, ValueError):
            answer = None
        if answer is None or "pid" not in answer:
            conn.close()
            conn = None
    if conn is None:
        os.execv(python, [python, *argv])
    pid = answer["pid"]

    def forward(signum, _frame):
        try:
            os.kill(pid, signum)
        except OSError:
            pass

    for s in FORWARDED:
        signal.signal(s, forward)
    # The driver holds the pipes: this process keeps none open past it (stderr kept for its own errors).
    for fd in (0, 1):
        os.close(fd)
    while True:
        try:
            done = lines.next()
            break
        except InterruptedError:
            continue
        except (OSError, ValueError):
            done = None
            break
    if done is None or "status" not in done:
        os.write(2, b"python-zygote: the driver's waiter ended without its status (the zygote is gone)\n")
        os._exit(1)
    status = done["status"]
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
        os._exit(128 + sig)
    os._exit(os.waitstatus_to_exitcode(status))


# ---------------------------------------------------------------------------------------------
# zygote


def bytecode_cache():
    """As test/conformance/python/driver_io.py ``bytecode_cache`` (the drivers' own, for a fresh Python): bytecode
    under ``.tessera/python-cache/`` of this checkout when PYTHONDONTWRITEBYTECODE forbids writing it beside the
    sources and no prefix is set, so the warm-up and every forked driver's imports (which inherit the setting) read
    .pyc files instead of compiling openai, pydantic, langchain or pydantic_ai from source each run. One cache per
    interpreter: ``python-cache`` for ``.venv``'s, ``python-cache-<venv>`` for another's (``python-cache-venv-legacy-clients``)."""
    if not sys.dont_write_bytecode or sys.pycache_prefix is not None or os.environ.get("TESSERA_PYTHON_PYCACHE") == "off":
        return
    root = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    venv = os.path.basename(os.path.normpath(sys.prefix))
    sys.pycache_prefix = os.path.join(root, ".tessera", "python-cache" if venv == ".venv" else "python-cache-" + venv.lstrip("."))
    sys.dont_write_bytecode = False


def warm(preload=()):
    """What every driver imports first (pure imports: no client, no connection; the transports a client imports when it
    is made), then ``preload`` (module names: what the drivers of this interpreter import beside openai), then the
    models of ``DRIVER_MODELS`` built. Run while the environment's reads are recorded, as all of it is import-time state."""
    import importlib

    bytecode_cache()
    import openai  # noqa: F401
    import openai.resources.chat.completions  # noqa: F401
    import openai.resources.embeddings  # noqa: F401
    import openai.resources.models  # noqa: F401
    import openai.resources.responses  # noqa: F401
    import openai.types  # noqa: F401
    import openai.types.chat  # noqa: F401
    import openai.types.chat.completion_create_params  # noqa: F401
    import openai.types.embedding_create_params  # noqa: F401
    import pydantic  # noqa: F401

    for name in TRANSPORT_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # .venv-legacy-clients' openai 1.x uses httpx/httpcore, without truststore
    for name in preload:
        importlib.import_module(name)
    build_models()
    importlib.invalidate_caches()


#: What a driver's first ``OpenAI(...)``/``AsyncOpenAI(...)`` imports (its HTTP transports): httpx2's ``httpcore2``
#: (its sync and async connection pools, ``h11``, anyio's streams) and ``truststore``; ~0.03 s of CPU a driver.
TRANSPORT_MODULES = ("httpcore2", "truststore", "httpcore", "h11")

#: The pydantic models the drivers build on their first answer: the official client's models are deferred
#: (openai/_models.py ``defer_build``, ``DEFER_PYDANTIC_BUILD``), so each driver builds the validator and serializer of
#: every model it parses or dumps, ~0.1 s of CPU for a Responses driver. Built once here, before the forks, for those
#: that several drivers build (the twenty-first pass of docs/performance-history.md: one run's trace of
#: ``complete_model_class``): the Responses API's response and stream events, chat completions and their parsed forms.
#: ``module:attribute``; a name the installed openai does not have (1.x in .venv-legacy-clients) is left.
DRIVER_MODELS = (
    "openai.types.responses.parsed_response:ParsedResponse",
    "openai.types.responses.response:Response",
    "openai.lib.streaming.responses._types:ParsedResponseSnapshot",
    "openai.lib.streaming.responses._events:ResponseCompletedEvent",
    "openai.types.responses.response_output_item_done_event:ResponseOutputItemDoneEvent",
    "openai.types.responses.response_output_item_added_event:ResponseOutputItemAddedEvent",
    "openai.types.responses.response_created_event:ResponseCreatedEvent",
    "openai.types.responses.response_in_progress_event:ResponseInProgressEvent",
    "openai.types.responses.response_completed_event:ResponseCompletedEvent",
    "openai.types.responses.response_output_message:ResponseOutputMessage",
    "openai.types.responses.response_output_text:ResponseOutputText",
    "openai.types.chat.parsed_chat_completion:ParsedChatCompletion",
    "openai.types.chat.parsed_chat_completion:ParsedChoice",
    "openai.types.chat.parsed_chat_completion:ParsedChatCompletionMessage",
    "openai.lib.streaming.chat._types:ParsedChatCompletionSnapshot",
    "openai.lib.streaming.chat._types:ParsedChatCompletionMessageSnapshot",
    "openai.lib.streaming.chat._types:ParsedChoiceSnapshot",
    "openai.types.chat.chat_completion:ChatCompletion",
    "openai.types.chat.chat_completion:Choice",
    "openai.types.chat.chat_completion_message:ChatCompletionMessage",
    "openai.types.chat.chat_completion_chunk:ChatCompletionChunk",
    "openai.types.chat.chat_completion_chunk:Choice",
    "openai.types.chat.chat_completion_chunk:ChoiceDelta",
)


def build_models():
    """Completes the models of ``DRIVER_MODELS`` (``model_rebuild``: their validators and serializers), as the first
    ``model_validate``/``model_dump`` in a driver would."""
    import importlib

    for qualified in DRIVER_MODELS:
        module, attribute = qualified.split(":")
        try:
            model = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError):
            continue
        model.model_rebuild()


def shadowed_modules(request):
    """Modules the zygote has imported that a module beside the script would replace in a fresh
    Python (its directory is sys.path[0], searched first): a forked driver would keep the zygote's."""
    script = os.path.join(request["cwd"], request["argv"][0])
    directory = os.path.dirname(os.path.realpath(script))
    try:
        entries = os.listdir(directory)
    except OSError:
        return []
    names = {e[:-3] for e in entries if e.endswith(".py")}
    names |= {e for e in entries if os.path.isfile(os.path.join(directory, e, "__init__.py"))}
    return sorted(n for n in names if n in sys.modules)


#: Beside the zygote's socket: a JSON line per driver that ended, ``{"parentPid", "driverPid", "script", "cpuSeconds"}``
#: (python-zygote.ts ``forkedDriverCpuSeconds``, which test/support/cpu-log.ts adds to the file's children).
DRIVER_CPU_LOG = "driver-cpu.jsonl"
driver_cpu_log = None  # its path, set by zygote()


def log_driver_cpu(request, pid, usage):
    """Appends the driver's CPU (user + system, its waited-for children included) to ``driver_cpu_log``, under the
    pid of the launcher's parent (the test's worker): the driver is the waiter's child, not in that worker's cutime.
    Written before the launcher gets the status, so the line is there once the test's child exited. With
    ``TESSERA_PYTHON_DRIVER_CPU_LOG=<file>`` in the zygote's environment (vitest's), appended there too, to outlive the run
    (the socket's directory goes with it), as ``TESSERA_MOTO_CPU_LOG`` does for moto's servers."""
    line = {"parentPid": request.get("parentPid"), "driverPid": pid, "script": os.path.basename(request["argv"][0]), "cpuSeconds": round(usage.ru_utime + usage.ru_stime, 3)}
    for path in (driver_cpu_log, os.environ.get("TESSERA_PYTHON_DRIVER_CPU_LOG")):
        if not path:
            continue
        try:
            with open(path, "a") as f:
                f.write(json.dumps(line) + "\n")
        except OSError:
            pass


def waiter(conn, fds, request):
    """In the zygote's child: forks the driver, answers its pid, then its wait status. Returns in the driver."""
    common.die_with_parent()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    pid = os.fork()
    if pid == 0:
        common.die_with_parent()
        conn.close()
        return fds
    for fd in fds:
        os.close(fd)
    send(conn, {"pid": pid})
    import selectors

    pidfd = os.pidfd_open(pid)
    selector = selectors.DefaultSelector()
    selector.register(pidfd, selectors.EVENT_READ)
    selector.register(conn, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj == pidfd:
                _, status, usage = os.wait4(pid, 0)
                log_driver_cpu(request, pid, usage)
                send(conn, {"status": status})
                os._exit(0)
            if not conn.recv(4096):  # the launcher is gone (killed): so is its driver
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                os._exit(0)


def zygote(socket_path, parent_pid, preload=()):
    """Serves requests until its parent goes; returns ``(request, fds)`` in a forked driver. ``preload``: modules
    imported after openai's on the first request (``warm``)."""
    global common, driver_cpu_log
    import zygote_common as common  # this directory is sys.path[0] (-S, not -I)

    driver_cpu_log = os.path.join(os.path.dirname(os.path.abspath(socket_path)), DRIVER_CPU_LOG)

    common.die_with_parent(parent_pid)
    common.record_environ_reads()
    import site

    site.main()  # what `python` without -S does at start (sys.path, sitecustomize.py), recorded
    import gc

    state = {}  # after the first request's warm-up: the environment and what counts in it

    def handle(conn, close_server):
        fds = []
        try:
            data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 3)
            while not data.endswith(b"\n"):
                more = conn.recv(1 << 20)
                if not more:
                    raise EOFError("the request ended early")
                data += more
            request = json.loads(data)
            if "own_env" not in state:  # on the first request: a run without Python drivers pays a bare Python
                warm(preload)
                state["own_env"], state["compared"] = common.stop_recording()
            differ = common.differing(request["env"], state["own_env"], state["compared"])
            if differ or len(fds) != 3:
                send(conn, {"spawn": "read at import time, differs from the zygote's: " + ", ".join(differ)})
                return None
            shadowing = shadowed_modules(request)
            if shadowing:
                send(conn, {"spawn": "modules beside the script would shadow the zygote's imports: " + ", ".join(shadowing)})
                return None
            gc.freeze()
            if os.fork() == 0:
                close_server()
                kept = waiter(conn, fds, request)  # returns in the driver only
                fds = []  # the driver's now (not closed by the finally below)
                return request, kept
        except Exception as error:  # noqa: BLE001 - one bad request does not end the zygote
            send(conn, {"error": repr(error)})
        finally:
            for fd in fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
            conn.close()
        return None

    return common.serve_requests(socket_path, handle)

def become(request, fds):
    """The forked driver: the launcher's fds as 0-2, its environment, cwd, argv and sys.path[0]."""
    import io

    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    script = os.path.abspath(request["argv"][0])  # __main__.__file__ is absolute, as in `python script` (3.9+)
    sys.argv = list(request["argv"])
    sys.path[0] = os.path.dirname(os.path.realpath(script))  # CPython: the directory of the resolved script
    for sig, how in request["signals"].items():
        signal.signal(int(sig), {"ignore": signal.SIG_IGN, "interrupt": signal.default_int_handler}.get(how, signal.SIG_DFL))

    def stream(fd, old, name, write):
        """As CPython's create_stdio: buffered unless -u/PYTHONUNBUFFERED, line-buffered on a tty and for stderr."""
        unbuffered = not isinstance(sys.__stdout__.buffer, io.BufferedIOBase)  # -u: stdout's buffer is its FileIO
        buf = io.open(fd, "wb" if write else "rb", buffering=0 if unbuffered and write else -1, closefd=False)
        raw = buf if unbuffered and write else buf.raw
        raw.name = name
        line_buffering = not unbuffered and (raw.isatty() or fd == 2)
        text = io.TextIOWrapper(buf, encoding=old.encoding, errors=old.errors, newline="\n", line_buffering=line_buffering, write_through=unbuffered)
        text.mode = "w" if write else "r"
        return text

    stdin, stdout, stderr = stream(0, sys.__stdin__, "<stdin>", False), stream(1, sys.__stdout__, "<stdout>", True), stream(2, sys.__stderr__, "<stderr>", True)
    sys.stdin = sys.__stdin__ = stdin
    sys.stdout = sys.__stdout__ = stdout
    sys.stderr = sys.__stderr__ = stderr
    # __main__ as `python <script>` makes it: __file__ absolute, __spec__ None, sys.argv[0] as given.
    import builtins
    import types
    from importlib.machinery import SourceFileLoader

    main = types.ModuleType("__main__")
    main.__file__ = script
    main.__cached__ = None
    main.__loader__ = SourceFileLoader("__main__", script)
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    with io.open_code(script) as f:
        code = compile(f.read(), script, "exec", dont_inherit=True)
    return code, main.__dict__


def run_driver(code, namespace):
    """Runs the driver's code, and ends its process as Python would at the end of a script or at ``sys.exit(n)``,
    without the interpreter's finalization: non-daemon threads joined (``threading._shutdown``), atexit callbacks run
    (weakref.finalize's among them), stdout and stderr flushed (exit code 120 when that fails, as CPython's), then
    ``os._exit``. Finalization would free every object the driver inherited from the zygote (openai's and pydantic's
    modules, their models: ~0.03 s of CPU a driver, writing to the pages it shares with the zygote); Python does not
    promise ``__del__`` of objects alive at exit anyway. An uncaught exception other than ``SystemExit`` with an int or
    None code goes through the interpreter as before (its traceback, exit code 1, KeyboardInterrupt's signal)."""
    try:
        exec(code, namespace)
        status = 0
    except SystemExit as e:
        code = e.code
        if code is not None and not (isinstance(code, int) and not isinstance(code, bool) and -(2**31) <= code < 2**31):
            raise
        status = code or 0
    threading = sys.modules.get("threading")
    if threading is not None:
        threading._shutdown()
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:  # noqa: BLE001 - as Py_FinalizeEx's flush_std_files: 120
            status = 120
    os._exit(status)


if __name__ == "__main__":
    if sys.argv[1] == "run":
        launch(sys.argv[2], sys.argv[3:])
    elif sys.argv[1] == "zygote":
        driver = become(*zygote(sys.argv[2], int(sys.argv[3]), sys.argv[4:]))
        if os.environ.get("TESSERA_PYTHON_DRIVER_PROFILE"):  # a directory: the driver's main thread profiled (cProfile)
            import atexit
            import cProfile

            profile = cProfile.Profile()
            out = os.path.join(os.environ["TESSERA_PYTHON_DRIVER_PROFILE"], f"{os.path.basename(sys.argv[0])}-{os.getpid()}.prof")
            atexit.register(lambda: (profile.disable(), profile.dump_stats(out)))
            profile.enable()
        run_driver(*driver)
    else:
        sys.exit(f"usage: {sys.argv[0]} run <socket variable> <script> [args...] | zygote <socket> <parent pid> [module...]")
