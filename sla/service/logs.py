"""Structured logs: one line per record, as text or JSON (``--log-format``).

Records carry their details as ``extra`` fields; secrets never reach them
(webhook and database URLs are logged by :func:`sla.service.settings.redact_url`,
the bearer token and the webhook secret not at all).
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import orjson

# The attributes every LogRecord has; anything else was passed as ``extra``.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


# Control characters as escapes: a value from a request (its path) cannot
# end the line and start a forged one.
_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)} | {
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
    0x85: "\\x85",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def _plain(value: object) -> str:
    """``value`` as text on one line (control characters escaped).

    >>> _plain("/v1/x\\n2026 error forged")
    '/v1/x\\\\n2026 error forged'
    """
    return str(value).translate(_ESCAPES)


def _extra(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: ``time``, ``level``, ``logger``, ``message`` and its extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_extra(record))
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = f"{record.exc_info[0].__name__}: {record.exc_info[1]}"
        return orjson.dumps(entry, default=str).decode("utf-8")


class TextFormatter(logging.Formatter):
    """A record as one line of text, its extra fields as ``key=value``."""

    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{_plain(k)}={_plain(v)}" for k, v in _extra(record).items())
        when = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        line = f"{when} {record.levelname.lower():7} {record.name}: {_plain(record.getMessage())}"
        if record.exc_info and record.exc_info[0] is not None:
            line += f" error={record.exc_info[0].__name__}: {_plain(record.exc_info[1])}"
        return f"{line} {extra}".rstrip()


def configure(log_format: str, level: int = logging.INFO) -> None:
    """Send the service's and uvicorn's records to standard error in ``log_format``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    for name in ("sla.serve", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
    # Requests are logged by the service itself (without their query strings' values).
    logging.getLogger("uvicorn.access").disabled = True
