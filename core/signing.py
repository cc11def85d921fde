"""HMAC-SHA256 signatures shared by the plugins that sign what they send
(the webhook channel's algorithm, the federation's feed and reports).

The signature covers ``"<timestamp>.<raw body>"``: a receiver takes the raw
body as received, checks the timestamp is within ``TOLERANCE`` seconds of
its clock and compares with :func:`hmac.compare_digest`.
"""
from __future__ import annotations

import hashlib
import hmac
import time

#: How far a receiver lets a timestamp drift from its clock, in seconds.
TOLERANCE = 300
SIGNATURE_PREFIX = "sha256="
#: The headers a signed request or response carries.
DEPLOYMENT_HEADER = "X-Ecrire-Deployment"
TIMESTAMP_HEADER = "X-Ecrire-Timestamp"
SIGNATURE_HEADER = "X-Ecrire-Signature"


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>``."""
    message = f"{timestamp}.".encode("ascii") + body
    return SIGNATURE_PREFIX + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: int | str,
    body: bytes | str,
    signature: str,
    now: float | None = None,
    tolerance: int = TOLERANCE,
) -> bool:
    """Whether ``signature`` is genuine for ``body`` sent at ``timestamp``
    and the timestamp is at most ``tolerance`` seconds from ``now``."""
    try:
        sent = int(str(timestamp).strip())
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance:
        return False
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return hmac.compare_digest(sign(secret, sent, raw).encode("ascii"), (signature or "").strip().encode("utf-8", "replace"))
