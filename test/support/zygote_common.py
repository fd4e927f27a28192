"""What the two test zygotes share: moto's (test/integration/support/moto-python/zygote.py) and the
Python client drivers' (test/support/python-zygote.py, which imports it from its own directory;
moto's zygote loads it by its path, running as a script from another directory).

- Recording which environment variables are read while the zygote imports, and deciding whether a
  request's environment would make a fresh Python differ from a forked one in them.
- Dying with the parent (PR_SET_PDEATHSIG).
- The request loop: a unix socket, children reaped, an end when the parent lets go of stdin.
"""

import json
import os
import signal
import socket
import sys

#: Variables the interpreter or libc read at start or cache, outside os.environ.
START_VARIABLES = ("LANG", "LANGUAGE", "TZ")
START_PREFIXES = ("PYTHON", "LC_")

#: Modules known to iterate os.environ at import only to read the variables of one prefix: their
#: iteration records the prefix (``TQDM_*``), not the whole environment. tqdm's ``envwrap`` (its
#: defaults from ``TQDM_*``, applied when ``tqdm.std`` is imported: LlamaIndex imports it) and fsspec's
#: ``set_conf_env`` (its config from ``FSSPEC_*``, at ``fsspec.config``'s import: LlamaIndex again).
PREFIX_SCANS = {"tqdm.utils": "TQDM_", "fsspec.config": "FSSPEC_"}

_READ = set()


def _scanner_prefix():
    """The prefix of PREFIX_SCANS whose module is iterating os.environ (the first frame outside os and
    collections.abc above ``__iter__``), or None."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__") in ("os", "_collections_abc", "collections.abc"):
        frame = frame.f_back
    return PREFIX_SCANS.get(frame.f_globals.get("__name__")) if frame is not None else None


class _RecordingEnviron(os._Environ):
    """os.environ recording the names read (``*`` when it is iterated or copied; ``<prefix>*`` when a module
    of PREFIX_SCANS iterates it)."""

    def __getitem__(self, key):
        _READ.add(key)
        return super().__getitem__(key)

    def __iter__(self):
        prefix = _scanner_prefix()
        _READ.add(prefix + "*" if prefix else "*")
        return super().__iter__()


def record_environ_reads():
    """From now on, os.environ records the names read (until ``stop_recording``)."""
    os.environ.__class__ = _RecordingEnviron


def stop_recording():
    """Ends the recording. Returns ``(own_env, compared)``: this process's environment, and the
    variables a request must agree on (those read, the interpreter's, and ``<prefix>*`` for a prefix
    a module of PREFIX_SCANS read: every variable with that prefix); ``compared`` is None when
    the environment was iterated otherwise (every variable counts: no request may be forked)."""
    os.environ.__class__ = os._Environ
    own_env = dict(os.environ)
    if "*" in _READ:
        return own_env, None
    return own_env, set(_READ) | {k for k in own_env if k.startswith(START_PREFIXES)} | set(START_VARIABLES)


def differing(env, own_env, compared):
    """The variables of ``env`` (a request's whole environment) that differ from ``own_env`` in what
    counts; empty when a forked child is what a fresh Python with ``env`` would be."""
    if compared is None:
        return ["(the environment was iterated at import)"]
    prefixes = START_PREFIXES + tuple(k[:-1] for k in compared if k.endswith("*"))
    keys = {k for k in compared if not k.endswith("*")} | {k for k in (*env, *own_env) if k.startswith(prefixes)}
    return sorted(k for k in keys if env.get(k) != own_env.get(k))


def die_with_parent(parent_pid=None):
    """SIGKILL when the parent thread ends (Linux prctl PR_SET_PDEATHSIG); with ``parent_pid``,
    exit now if that parent is already gone."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(0)


def send(conn, message):
    """One JSON line on ``conn``; nothing if the other end is gone."""
    try:
        conn.sendall((json.dumps(message) + "\n").encode())
    except OSError:
        pass


def serve_requests(socket_path, handle):
    """Listens on ``socket_path`` (prints ``listening`` on stdout once it does) and calls
    ``handle(conn, close_server)`` for each connection, ``close_server()`` closing the listener and
    the selector (for a forked child). Children are reaped here, so that their CPU is counted in this
    process's children. Exits when stdin ends (the parent is gone or let go); returns what ``handle``
    returns when that is not None (in a forked child that goes on as something else)."""
    import selectors

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(128)
    sys.stdout.write("listening\n")
    sys.stdout.flush()

    def reap(*_):
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    signal.signal(signal.SIGCHLD, reap)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(sys.stdin, selectors.EVENT_READ)

    def close_server():
        selector.close()
        listener.close()

    while True:
        for key, _ in selector.select():
            if key.fileobj is sys.stdin:
                if not os.read(sys.stdin.fileno(), 4096):
                    sys.exit(0)  # vitest's main process is gone or let go of us
                continue
            conn, _ = listener.accept()
            result = handle(conn, close_server)
            if result is not None:
                return result

