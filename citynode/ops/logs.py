"""Logs: one JSON object a line (or plain text), each carrying the request id it belongs to.

The request id is set by `citynode/ops/requests.py` for the duration of a request (a context
variable, so every log line written while handling it, in any module, carries it) and returned
to the client in the `X-Request-Id` header: an operator given that header by a user finds every
line of that request.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from typing import Any, Final

#: The id of the request being handled, or "" outside a request.
REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

#: LogRecord attributes that are not extra fields given by the caller.
_STANDARD: Final = frozenset(
    set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", "request_id", ...extra, "error"}` per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", "") or REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key != "request_id":
                entry[key] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def configure(log_format: str = "text", level: str = "info") -> None:
    """Set the root logger up (the CLI calls this; nothing else configures logging)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
