import io
import logging

import pytest

from qa.console import QuietThirdParty, use_json


def _record(name: str, level: int) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, "message", None, None)


@pytest.mark.parametrize(
    ("name", "level", "shown"),
    [
        ("bm25s", logging.DEBUG, False),  # "Building index from IDs objects", on every load
        ("faiss.loader", logging.INFO, False),  # "Could not load library with AVX2 support ..."
        ("faiss.loader", logging.WARNING, True),
        ("qa.service", logging.INFO, True),
        ("uvicorn.access", logging.INFO, True),
        ("api.server", logging.DEBUG, True),
    ],
)
def test_other_packages_lines_below_warning_are_muted(name: str, level: int, shown: bool) -> None:
    assert QuietThirdParty("info").filter(_record(name, level)) is shown
    assert QuietThirdParty("debug").filter(_record(name, level)) is True  # QA_LOG_LEVEL=debug shows all


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_log_format_is_json_unless_stderr_is_a_terminal() -> None:
    assert use_json("auto", io.StringIO()) is True
    assert use_json("auto", _Terminal()) is False
    assert use_json("json", _Terminal()) is True
    assert use_json("text", io.StringIO()) is False
