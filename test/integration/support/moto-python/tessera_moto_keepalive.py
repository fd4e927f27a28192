"""HTTP keep-alive for the tests' moto servers (zygote.py ``serve``), the same answers.

werkzeug's development server, which moto's own server is, ends every connection after one answer:
it sends ``Connection: close``, then waits up to 10 ms for unread request bytes to discard
(``WSGIRequestHandler.run_wsgi``, werkzeug 3.1.9), then closes. Every AWS SDK request therefore pays a
TCP connect, accept and close on both sides, and a serial server (one thread) stalls 10 ms after
every answer before it accepts the next connection.

``handler_class(base, serial)`` returns a request handler that keeps HTTP/1.1 connections open:
- its ``run_wsgi`` is werkzeug 3.1.9's, with two changes: no ``Connection: close`` unless the
  connection is to close (the client asked, an HTTP/1.0 request, an answer without a length that
  is not chunked, an error after a chunked answer started); and after the answer, the rest of the
  request body the application did not read is read exactly (``Content-Length`` bytes in all, or the
  chunked body to its last chunk) instead of everything that arrives within 10 ms, so the next
  request on the connection is intact; a body that cannot be read to its end closes the connection;
- the request body the application sees (``wsgi.input``) ends at ``Content-Length`` (werkzeug and
  Flask read it through a ``LimitedStream`` of that length already; the raw socket has the next
  request after it); a chunked body is werkzeug's ``DechunkedInput`` as before;
- serial (``serial=True``): the server is threaded (a thread per connection, so idle keep-alive
  connections do not block others), and a lock held for a request's whole ``run_wsgi`` (reading
  the body, the application, writing the answer) makes it one request at a time in the whole
  server, as werkzeug's single-threaded server is; ``wsgi.multithread`` stays False.
Everything else is werkzeug's and moto's handler (``base``): request parsing, the environment
(moto's underscore headers), ``Expect: 100-continue``, the 500 page on an exception, the logs.
For any werkzeug but 3.1.9 it returns None: the caller keeps werkzeug's server as it is.

``parse_headers`` (installed by ``install_fast_headers()``, which zygote.py calls for a kept-alive
server unless ``TESSERA_MOTO_FAST_HEADERS=off``): http.client's ``parse_headers``, which
http.server's ``parse_request`` calls for every request, with the same result built without the
email package's feed parser for the headers clients send (5-6% of a moto request's CPU; see its
docstring).
"""

from __future__ import annotations

import email.parser
import http.client
import os
import re
import sys
import threading
from importlib.metadata import version
from typing import Any

from werkzeug.exceptions import InternalServerError
from werkzeug.serving import DechunkedInput, connection_dropped_errors

WRITTEN_FOR = "3.1.9"
FAST_HEADERS_FOR = ((3, 11), (3, 12), (3, 13))  # Python versions whose http.client and email parser parse_headers was checked against
_DRAIN_READ = 1 << 20


class _Body:
    """The request body of one request on a kept-alive connection: at most `length` bytes of the
    connection's reader (what follows is the next request)."""

    def __init__(self, rfile: Any, length: int) -> None:
        self._rfile = rfile
        self.remaining = length

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > self.remaining:
            size = self.remaining
        if size == 0:
            return b""
        data = self._rfile.read(size)
        self.remaining -= len(data)
        return data

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > self.remaining:
            size = self.remaining
        if size == 0:
            return b""
        data = self._rfile.readline(size)
        self.remaining -= len(data)
        return data

    def readlines(self, hint: int = -1) -> list[bytes]:
        lines = []
        while line := self.readline():
            lines.append(line)
        return lines

    def __iter__(self) -> Any:
        return iter(self.readline, b"")

    def close(self) -> None:
        pass


def _drained(body: Any) -> bool:
    """Reads what is left of a request body (a `_Body` or werkzeug's `DechunkedInput`); whether it
    reached its end (False: the connection must close)."""
    try:
        if isinstance(body, _Body):
            while body.remaining:
                if not body.read(_DRAIN_READ):
                    return False
            return True
        if isinstance(body, DechunkedInput):
            while body.read(_DRAIN_READ):
                pass
            return body._done
    except (OSError, ValueError):
        return False
    return False


#: One header line parse_headers builds itself: a name of printable ASCII without ":" (what the email
#: parser's header pattern takes, at least one character), ":", then a value of printable ASCII, spaces
#: and tabs, then CRLF or LF. Anything else (a continuation line, a line that is no header, a byte
#: outside printable ASCII, a bare CR, or characters str.splitlines breaks at) goes to the email parser.
_SIMPLE_HEADER = re.compile(r"([\x21-\x39\x3b-\x7e]+):([\x20-\x7e\t]*)\r?\n\Z")
_email_parse_headers = http.client.parse_headers
_VERIFY = os.environ.get("TESSERA_MOTO_VERIFY") == "1"
VERIFIED = {"headers": 0}  # TESSERA_MOTO_VERIFY=1: header blocks compared with the email parser's


def message_state(message: Any) -> dict:
    """Everything an `email.message.Message` holds (its `__dict__`; the policy by identity, defects by class and text), for comparing two."""
    state = dict(vars(message), policy=id(message.policy))
    state["defects"] = [(type(d).__name__, str(d)) for d in message.defects]
    return state


def parse_headers(fp: Any, _class: type = http.client.HTTPMessage) -> Any:
    """http.client.parse_headers(fp, _class), the same result, for the header blocks clients send.

    http.client (CPython 3.11-3.13) reads the lines up to the blank line (`_read_headers`: its
    limits and errors), decodes them as ISO-8859-1 and hands the text to
    `email.parser.Parser(_class=_class).parsestr`: the feed parser, with the compat32 policy, which
    for a header block of plain `Name: value` lines makes a `_class()` whose `_headers` are
    `(name, value)` in order (`Compat32.header_source_parse`: the value after the colon with leading
    spaces and tabs removed, the line end removed), `_payload` "" (the nothing after the blank
    line), and every other attribute as `Message.__init__` left it. This builds that message itself
    when every line is such a line (`_SIMPLE_HEADER`) and the block ends with a blank line, which
    is what the AWS SDKs and Python's and Node's HTTP clients send; any other block (a continuation
    line, a malformed line, bytes outside printable ASCII, no blank line) goes to the email parser as
    before. Under TESSERA_MOTO_VERIFY=1 every block is also parsed by http.client's own function and
    the two messages' attributes compared (a difference raises AssertionError: moto's server
    answers the request with a 400/500 and the verify log says why).
    """
    headers = http.client._read_headers(fp)
    text = b"".join(headers).decode("iso-8859-1")
    message = _build(headers, text, _class)
    if message is None:
        message = email.parser.Parser(_class=_class).parsestr(text)
    elif _VERIFY:
        import io

        theirs = _email_parse_headers(io.BytesIO(text.encode("iso-8859-1")), _class)
        VERIFIED["headers"] += 1
        if message_state(message) != message_state(theirs) or type(message) is not type(theirs):
            from tessera_moto_verify import verify_failed

            verify_failed("parse_headers", message_state(message), message_state(theirs))
    return message


def _build(lines: list, text: str, _class: type) -> Any:
    """The message for a block of simple header lines, or None (the email parser's case)."""
    if not lines or lines[-1] not in (b"\r\n", b"\n"):
        return None
    fields = []
    match = _SIMPLE_HEADER.match
    for line in text.splitlines(True)[:-1] if len(lines) > 1 else ():
        found = match(line)
        if found is None:
            return None
        fields.append((found.group(1), found.group(2).lstrip(" \t")))
    if len(fields) != len(lines) - 1:
        return None
    message = _class()
    message._headers = fields
    message._payload = ""
    return message


def install_fast_headers() -> bool:
    """Makes `http.client.parse_headers` (what http.server's request parsing calls) `parse_headers`
    in this process, for the Python versions it was checked against; whether it did."""
    global _VERIFY
    if sys.version_info[:2] not in FAST_HEADERS_FOR or os.environ.get("TESSERA_MOTO_FAST_HEADERS") == "off":
        return False
    _VERIFY = os.environ.get("TESSERA_MOTO_VERIFY") == "1"  # read now: a forked server's environment is set after import
    http.client.parse_headers = parse_headers
    return True


def handler_class(base: type, serial: bool) -> type | None:
    """`base` (moto's MotoRequestHandler or a subclass) keeping connections open; None for another werkzeug."""
    if version("werkzeug") != WRITTEN_FOR:
        return None
    lock = threading.Lock() if serial else None

    class KeepAliveRequestHandler(base):  # type: ignore[misc,valid-type]
        protocol_version = "HTTP/1.1"
        # TCP_NODELAY (socketserver's StreamRequestHandler.setup): an answer is written as soon as it
        # is complete; with Nagle's algorithm a second small write on a kept-alive connection (a
        # chunk, a body after its headers) waited for the client's delayed ACK (40 ms on Linux).
        disable_nagle_algorithm = True

        def handle_expect_100(self) -> bool:
            # http.server's parse_request answers "Expect: 100-continue" itself for an HTTP/1.1
            # handler, before run_wsgi, and werkzeug's run_wsgi answers it again (werkzeug's threaded
            # server sends two). Here only run_wsgi's is sent: once, and on a serial server under
            # the lock, so a client that sends its body after "100 Continue" knows its request is
            # the one the server is handling.
            return True

        def make_environ(self) -> dict[str, Any]:
            environ = super().make_environ()
            if serial:
                environ["wsgi.multithread"] = False
            if not isinstance(environ["wsgi.input"], DechunkedInput):
                given = environ.get("CONTENT_LENGTH") or "0"
                if given.isascii() and given.isdigit():
                    length = int(given)
                else:  # "-5", "+5", " 5", "1_0" (Python's int takes the last three): nothing after it can be trusted
                    length = 0
                    self.close_connection = True
                environ["wsgi.input"] = _Body(self.rfile, length)
            return environ

        def run_wsgi(self) -> None:
            if lock is None:
                self._run_wsgi()
                return
            with lock:
                self._run_wsgi()

        def _run_wsgi(self) -> None:  # werkzeug 3.1.9 WSGIRequestHandler.run_wsgi, changes marked "keep-alive"
            if self.request_version != "HTTP/1.1":
                self.close_connection = True  # keep-alive: HTTP/1.1 requests only
            if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")

            self.environ = environ = self.make_environ()
            status_set: str | None = None
            headers_set: list[tuple[str, str]] | None = None
            status_sent: str | None = None
            headers_sent: list[tuple[str, str]] | None = None
            chunk_response: bool = False

            def write(data: bytes) -> None:
                nonlocal status_sent, headers_sent, chunk_response
                assert status_set is not None, "write() before start_response"
                assert headers_set is not None, "write() before start_response"
                if status_sent is None:
                    status_sent = status_set
                    headers_sent = headers_set
                    try:
                        code_str, msg = status_sent.split(None, 1)
                    except ValueError:
                        code_str, msg = status_sent, ""
                    code = int(code_str)
                    self.send_response(code, msg)
                    header_keys = set()
                    for key, value in headers_sent:
                        self.send_header(key, value)
                        header_keys.add(key.lower())
                        if key.lower() == "connection" and value.lower() == "close":
                            self.close_connection = True  # keep-alive: the application's own close
                    framed = (
                        "content-length" in header_keys
                        or environ["REQUEST_METHOD"] == "HEAD"
                        or (100 <= code < 200)
                        or code in {204, 304}
                    )
                    # keep-alive: the request's version (werkzeug reads the server's, HTTP/1.1 for a
                    # threaded one; an HTTP/1.0 client cannot read a chunked body)
                    if not framed and self.request_version == "HTTP/1.1":
                        chunk_response = True
                        self.send_header("Transfer-Encoding", "chunked")
                    elif not framed:
                        self.close_connection = True  # keep-alive: the body ends with the connection
                    # keep-alive: werkzeug sends "Connection: close" always; here only when closing.
                    if self.close_connection and "connection" not in header_keys:
                        self.send_header("Connection", "close")
                    # keep-alive: the headers go out with the first body bytes, in one write
                    # (end_headers without its flush_headers; werkzeug writes them on their own).
                    self._headers_buffer.append(b"\r\n")
                    head = b"".join(self._headers_buffer)
                    self._headers_buffer = []
                else:
                    head = b""

                assert isinstance(data, bytes), "applications must write bytes"

                if data and chunk_response:
                    self.wfile.write(b"".join((head, hex(len(data))[2:].encode(), b"\r\n", data, b"\r\n")))
                elif data or head:
                    self.wfile.write(head + data if head else data)

                self.wfile.flush()

            def start_response(status, headers, exc_info=None):  # type: ignore
                nonlocal status_set, headers_set
                if exc_info:
                    try:
                        if headers_sent:
                            raise exc_info[1].with_traceback(exc_info[2])
                    finally:
                        exc_info = None
                elif headers_set:
                    raise AssertionError("Headers already set")
                status_set = status
                headers_set = headers
                return write

            # keep-alive: the body this handler made, drained after the answer even if something
            # between the server and moto (tessera_moto_probe.py) put another stream in the environ
            body = environ["wsgi.input"]

            def execute(app: Any) -> None:
                application_iter = app(environ, start_response)
                try:
                    for data in application_iter:
                        write(data)
                    if not headers_sent:
                        write(b"")
                    if chunk_response:
                        self.wfile.write(b"0\r\n\r\n")
                finally:
                    # keep-alive: the rest of this request's body, exactly, instead of whatever
                    # arrives within 10 ms (which may be the next request on the connection).
                    if not self.close_connection and not _drained(body):
                        self.close_connection = True
                    if hasattr(application_iter, "close"):
                        application_iter.close()

            try:
                execute(self.server.app)
            except connection_dropped_errors as e:
                self.close_connection = True
                self.connection_dropped(e, environ)
            except Exception as e:
                if self.server.passthrough_errors:
                    raise

                if status_sent is not None and chunk_response:
                    self.close_connection = True
                if status_sent is not None and not chunk_response:
                    self.close_connection = True  # keep-alive: an answer cut short has no end to find

                try:
                    # if we haven't yet sent the headers but they are set
                    # we roll back to be able to set them again.
                    if status_sent is None:
                        status_set = None
                        headers_set = None
                    execute(InternalServerError())
                except Exception:
                    self.close_connection = True

                from werkzeug.debug.tbtools import DebugTraceback

                msg = DebugTraceback(e).render_traceback_text()
                self.server.log("error", f"Error on request:\n{msg}")

    KeepAliveRequestHandler.__qualname__ = KeepAliveRequestHandler.__name__ = f"KeepAlive{base.__name__}"
    return KeepAliveRequestHandler
