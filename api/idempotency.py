"""Idempotency-Key at the edge: which keys are valid and when two requests are "the same".

The first response to a key is stored by the ledger with the command's events, in one
transaction (``ledger/idempotency.py``); a repeat is answered from it. A refused command
stores nothing, so its key stays free: a retry of a refused key runs the command again
(and may succeed once the plan allows it). docs/api.md has the rules for clients.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from api.errors import Problem

MAX_KEY_LENGTH = 200


def fingerprint(method: str, path: str, body: Any) -> str:
    """What makes two requests "the same": method, path and the body as validated."""
    text = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_key(key: str) -> str:
    """A key is 1 to 200 printable ASCII characters."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(" " < c <= "~" for c in key):
        msg = f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters"
        raise Problem(422, msg, errors=[{"loc": ["header", "Idempotency-Key"], "msg": msg}])
    return key
