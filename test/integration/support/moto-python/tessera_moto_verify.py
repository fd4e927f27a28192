"""What both sets of moto CPU patches (tessera_moto_patches.py, tessera_moto_parse_patches.py) share
for their verify mode (TESSERA_MOTO_VERIFY=1): the error a mismatch raises, the count of comparisons
made, and the log of mismatches. No side effects on import."""

from __future__ import annotations

import json
import os
from typing import Any


class PatchMismatch(AssertionError):
    """A patched function returned something other than moto's own (TESSERA_MOTO_VERIFY=1)."""


def count(verified: dict[str, int], kind: str, file_tag: str) -> None:
    """One more comparison of `kind` in `verified`; with TESSERA_MOTO_VERIFY_LOG the counts of this
    process are (re)written to `<log>.<file_tag>-<pid>.json` every 20 comparisons (a server may end
    without atexit)."""
    verified[kind] += 1
    path = os.environ.get("TESSERA_MOTO_VERIFY_LOG")
    if path and sum(verified.values()) % 20 == 1:
        with open(f"{path}.{file_tag}-{os.getpid()}.json", "w", encoding="utf-8") as out:
            out.write(json.dumps(verified))


def verify_failed(name: str, ours: Any, theirs: Any) -> None:
    """Appends the mismatch to TESSERA_MOTO_VERIFY_LOG (if set) and raises PatchMismatch."""
    path = os.environ.get("TESSERA_MOTO_VERIFY_LOG")
    message = f"{name}: patched {ours!r} != moto {theirs!r}"
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(message[:4000] + "\n")
    raise PatchMismatch(message[:4000])
