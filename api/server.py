"""``qa serve``: build the index if missing, then serve the API and page with uvicorn."""

from __future__ import annotations

import logging.config

import uvicorn

from api.app import create_app
from api.logs import log_config
from api.security import check_exposure
from qa.config import Settings
from qa.service import QAService


def server_url(settings: Settings) -> str:
    """The address to open in a browser."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.port}/"


def run_server(settings: Settings) -> None:
    """Build or load the index from the seeds folder, load the answerer, print the URL, and serve until interrupted."""
    check_exposure(settings)  # before building an index for a server that must not start
    logging.config.dictConfig(log_config(settings))  # from the first line on, not only once uvicorn runs
    service = QAService(settings)
    service.ensure_index(show_progress=settings.log_format == "text")  # a progress bar is not a JSON line
    # The answerer too, so the first question does not wait for the reader to load (nor, on a fresh
    # machine, for its ONNX export to be built: 5-10 s on 2 cores, once).
    logging.getLogger(__name__).info("Loading the answerer (a first start also builds the reader's ONNX export).")
    service.answerer  # noqa: B018 -- the property builds it
    app = create_app(settings, service)
    count = len(service.documents())
    print(f"seed-qa: {count} document{'' if count == 1 else 's'} indexed; open {server_url(settings)}", flush=True)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=log_config(settings),  # JSON lines with the request id (QA_LOG_FORMAT=text for plain)
        proxy_headers=False,
    )
