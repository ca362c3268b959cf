"""``qa serve``: build the index if missing, then serve the API and page with uvicorn."""

from __future__ import annotations

import logging.config
import sys
from typing import Any

import uvicorn

from api.app import create_app
from api.logs import log_config
from api.security import check_exposure
from qa import remote
from qa.config import Settings
from qa.console import use_json
from qa.service import QAService

logger = logging.getLogger(__name__)


def server_url(settings: Settings) -> str:
    """The address to open in a browser."""
    return remote.server_url(settings.host, settings.port)


class _Server(uvicorn.Server):
    """uvicorn's server that says where to open the page once its socket is bound (not before)."""

    def __init__(self, config: uvicorn.Config, *, settings: Settings, documents: int) -> None:
        super().__init__(config)
        self.qa_settings = settings
        self.documents = documents

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        if not self.started:  # the port was taken: uvicorn logged why and stops
            return
        port = self.qa_settings.port
        if self.servers and self.servers[0].sockets:  # port 0: the one the system picked
            port = self.servers[0].sockets[0].getsockname()[1]
        announce(self.qa_settings.model_copy(update={"port": port}), documents=self.documents)


def announce(settings: Settings, *, documents: int) -> None:
    """Print (stdout) how many documents are served and the address to open, standing out on a terminal."""
    url = server_url(settings)
    count = f"{documents} document{'' if documents == 1 else 's'}"
    if sys.stdout.isatty():
        print(f"\nseed-qa is serving {count} from {settings.seeds_dir}/\n", flush=True)
        print(f"  \033[1;32m➜  Open \033[4m{url}\033[0m   (Ctrl+C stops the server)\n", flush=True)
    else:
        print(f"seed-qa: {count} indexed; open {url}", flush=True)
        logger.info("Serving %s at %s", count, url)


def run_server(settings: Settings) -> None:
    """Build or load the index from the seeds folder, load the answerer, print the URL, and serve until interrupted."""
    check_exposure(settings)  # before building an index for a server that must not start
    logging.config.dictConfig(log_config(settings))  # from the first line on, not only once uvicorn runs
    service = QAService(settings)
    # A progress bar is not a JSON line: bars only when the logs are for people.
    service.ensure_index(show_progress=not use_json(settings.log_format))
    # The answerer too, so the first question does not wait for the reader to load (nor, on a fresh
    # machine, for its ONNX export to be built, once).
    logger.info("Loading the answerer.")
    service.answerer  # noqa: B018 -- the property builds it
    app = create_app(settings, service)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=log_config(settings),  # JSON lines with the request id, or short lines on a terminal
        proxy_headers=False,
    )
    _Server(config, settings=settings, documents=len(service.documents())).run()
