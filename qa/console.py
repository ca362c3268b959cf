"""How the command line and the server speak to people: which log lines show, and in which form.

- ``QuietThirdParty``: other packages' lines below WARNING are dropped unless ``QA_LOG_LEVEL=debug``
  (bm25s logs ``Building index from IDs objects`` at DEBUG on every load, faiss its AVX2 fallback
  at INFO; neither is news to a user).
- ``use_json``: ``QA_LOG_FORMAT=auto`` means readable lines on a terminal and JSON lines otherwise
  (a log collector, a pipe, a service manager).
- ``configure_cli_logging``: the ``qa`` commands' logging, warnings only by default.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal, TextIO

LogFormat = Literal["auto", "text", "json"]
LogLevel = Literal["debug", "info", "warning", "error"]

#: Loggers whose INFO lines are this project's own messages to its users.
OWN_LOGGERS = frozenset({"qa", "api", "uvicorn", "__main__"})


class QuietThirdParty(logging.Filter):
    """Drop records below WARNING from loggers outside ``OWN_LOGGERS``, unless ``level`` is debug."""

    def __init__(self, level: str = "info") -> None:
        super().__init__()
        self.everything = level.lower() == "debug"

    def filter(self, record: logging.LogRecord) -> bool:
        if self.everything or record.levelno >= logging.WARNING:
            return True
        return record.name.partition(".")[0] in OWN_LOGGERS


def use_json(log_format: str, stream: TextIO | None = None) -> bool:
    """Whether logs go out as JSON lines: asked for, or ``auto`` and ``stream`` (stderr) is not a terminal."""
    if log_format != "auto":
        return log_format == "json"
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return not (isatty is not None and isatty())


def configure_cli_logging(*, verbose: bool, level: str) -> None:
    """Plain ``LEVEL logger: message`` lines on stderr: warnings, INFO with ``-v``, all with ``QA_LOG_LEVEL=debug``."""
    threshold = logging.DEBUG if level.lower() == "debug" else logging.INFO if verbose else logging.WARNING
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(QuietThirdParty(level))
    logging.basicConfig(level=threshold, handlers=[handler], force=True)
