"""Runs check_patches.py, check_parse_patches.py and check_headers.py as forks of one interpreter (moto-patches.test.ts).

Each script, run on its own, starts a Python that imports boto3, moto and the first set of patches
(check_parse_patches.py imports check_patches.py for its scenario helpers) before its checks. Here
one process makes those imports once (`import check_patches`: its environment, boto3, moto,
tessera_moto_patches) and forks a child per script, one after the other: each child starts from
exactly the state its script reaches after that import line, and runs the script's `main()` as
`python <script>` would (the second child imports check_parse_patches and with it the second set
of patches; nothing of the first child's run is in it). CPU (user + sys, this machine, two
alternated pairs): 8.4-8.8 s for the two scripts as two processes, 6.6-7.2 s here.

Prints one JSON line per script, in order: {"script": name, "code": exit code, "stdout": what it
printed, "error": traceback or null}. Exits 0 (the codes are in the lines).

Usage: python run_checks.py   (sitecustomize is not needed: the modules are imported from here)
"""

from __future__ import annotations

import io
import json
import os
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import check_patches  # noqa: E402  (what both scripts import first)


def first() -> int:
    return check_patches.main()


def second() -> int:
    import check_parse_patches

    return check_parse_patches.main()


def forked(name: str, main) -> dict:
    """Runs `main` in a forked child with its stdout captured; the child's result as a dict."""
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: run, then write the result and leave without running anything else
        os.close(read_fd)
        out = io.StringIO()
        sys.stdout = out
        code, error = 1, None
        try:
            code = int(main() or 0)
        except BaseException:  # noqa: BLE001  (a crash is a result: reported, exit code 1)
            error = traceback.format_exc()
        with os.fdopen(write_fd, "w") as pipe:
            pipe.write(json.dumps({"script": name, "code": code, "stdout": out.getvalue(), "error": error}))
        sys.stderr.flush()
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        text = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not text:
        return {"script": name, "code": 1, "stdout": "", "error": f"the child ended with status {status} and no result"}
    return json.loads(text)


def third() -> int:
    import check_headers

    return check_headers.main()


def main() -> int:
    for name, run in (("check_patches.py", first), ("check_parse_patches.py", second), ("check_headers.py", third)):
        print(json.dumps(forked(name, run)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
