"""Shared test support: Settings for tests, real servers on loopback, and external processes.

One module (about 350 lines) by design: every test helper that is not a fixture has this one home.

- Settings: ``settings_under(root, **overrides)`` puts seeds (the project's, copied once), index
  and data under ``root`` and never reads a ``.env``; ``HASHING`` (hashing embedder, sentence
  answerer) and ``fast_settings`` (the HTTP tests' preset) build on it, ``fast_service`` serves
  them, ``GatedEmbedder`` holds one thread's ingest; ``store_settings`` picks a vector store;
  ``settings_env`` turns Settings into the ``QA_*`` environment of a subprocess.
- Servers in this process: ``start_server(app)`` (or ``with serving(app) as url``) runs uvicorn in
  a thread on a loopback socket it bound itself (no race for the port), ready when it returns.
- Processes: ``launch`` starts a command with its output in a log file; ``ServerProcess.wait_ready``
  polls a check (``http_ok``, ``port_open``) until it holds, failing with the log's tail;
  ``start_process`` does both; ``start_server_process`` is ``qa serve``, ``RedisServer`` a
  redis-server; ``run_in_terminal`` runs a command on a pseudo-terminal, as a person sees it.
  ``free_port`` names a port for programs that bind it themselves.

Fixtures live in the conftest files and call these; tests import helpers from here, never from a
conftest.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn
from fastapi import FastAPI

from qa import HashingEmbedder, QAService, Settings

REPO = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"

# What the project's seed article says, as the tests ask and quote it.
SEED_FILE = "zelensky-istanbul-turkish-drones.txt"
BAYKAR_QUOTE = "Baykar company, which manufactures the Bayraktar TB2 drone"
KYIV_PASSAGE = "inaugurated a factory to manufacture these aircraft on the outskirts of Kyiv"
#: A question the fast (hashing) pipeline answers ("Baykar") from the seed article.
TB2_QUESTION = "Who makes the TB2?"
# Hashed bag-of-words vectors score lower than the real model: at 0.3 "Who makes the TB2?" is
# answered ("Baykar") and "What is the capital of France?" still abstains.
FAST_THRESHOLD = 0.3
#: The fast pipeline: the hashing embedder and the sentence answerer.
HASHING: dict[str, Any] = {"embedder": "hashing", "answerer": "sentence"}
NEEDS_SCALE_EXTRA = "needs the [scale] extra: pip install -e '.[scale]'"


def has_module(name: str) -> bool:
    """Whether ``name`` is importable (without importing it)."""
    return importlib.util.find_spec(name) is not None


def write_scanned_pdf(path: Path) -> Path:
    """A PDF whose one page is a picture of text (as a scanner makes): no text layer at all."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(picture).text((20, 80), "The harbour opens at dawn.", fill="black")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(picture, x=10, y=10, w=180)
    pdf.output(str(path))
    return path


# --- Settings ---------------------------------------------------------------------------------


def copy_seeds(root: Path) -> Path:
    """``root/seeds``: a private copy of the project's seeds folder (made once)."""
    seeds = root / "seeds"
    if not seeds.exists():
        shutil.copytree(REPO / "seeds", seeds)
    return seeds


def settings_under(root: Path, **overrides: Any) -> Settings:
    """Settings whose seeds (the project's, copied once unless ``seeds_dir`` is given), index and
    data live under ``root``; a ``.env`` file is never read."""
    values: dict[str, Any] = {
        "seeds_dir": overrides.get("seeds_dir") or copy_seeds(root),
        "index_dir": root / "embeddings",
        "data_dir": root / "data",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def fast_settings(root: Path, **overrides: Any) -> Settings:
    """The HTTP tests' settings: hashing embedder, ``FAST_THRESHOLD``, folders under ``root``."""
    # watch=False: tests change the seeds folder on purpose; the live-folder tests turn it on.
    # max_wait_s=60: on a busy CI machine these tests wait rather than shed; the shedding tests
    # (tests/hardening/test_limits.py) set their own budget.
    values: dict[str, Any] = {**HASHING, "abstain_threshold": FAST_THRESHOLD, "watch": False, "max_wait_s": 60}
    return settings_under(root, **{**values, **overrides})


def fast_service(settings: Settings, *, build: bool = True) -> QAService:
    """A service on the hashing embedder, its index built unless ``build`` is False."""
    service = QAService(settings, embedder=HashingEmbedder())
    if build:
        service.ensure_index()
    return service


def store_settings(root: Path, store: str, **overrides: Any) -> Settings:
    """Settings on the vector ``store`` (Qdrant in its embedded mode) with folders under ``root``."""
    qdrant_path = root / "qdrant" if store == "qdrant" else None
    return settings_under(root, **{"vector_store": store, "qdrant_path": qdrant_path, **overrides})


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """This process's environment without its ``QA_*`` variables, plus ``settings``' pipeline and
    folders as ``QA_*`` variables (and ``extra``): what a ``qa``/uvicorn subprocess needs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        PYTHONPATH=str(REPO),
        QA_EMBEDDER=settings.embedder,
        QA_ANSWERER=settings.answerer,
        QA_SEEDS_DIR=str(settings.seeds_dir),
        QA_INDEX_DIR=str(settings.index_dir),
        QA_DATA_DIR=str(settings.data_dir),
    )
    if settings.abstain_threshold is not None:  # None: the answerer's calibrated threshold
        env["QA_ABSTAIN_THRESHOLD"] = str(settings.abstain_threshold)
    env.update(extra)
    return env


class GatedEmbedder(HashingEmbedder):
    """Holds document embedding in the thread named ``thread`` (only there) at a gate, so a test
    sees the server mid-ingest: ``reached`` is set on arrival, ``release`` opens the gate."""

    def __init__(self, thread: str) -> None:
        super().__init__()
        self.thread = thread
        self.reached = threading.Event()
        self.release = threading.Event()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if threading.current_thread().name == self.thread:
            self.reached.set()
            assert self.release.wait(60), "the test never opened the gate"
        return super().embed_documents(texts)


# --- Servers in this process ------------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on loopback right now (for programs that bind it themselves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = LOOPBACK) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        socket.create_connection((host, port), timeout=0.2).close()
    except OSError:
        return False
    return True


@dataclass
class LiveServer:
    """A uvicorn server running an app on a loopback port, in a thread."""

    app: FastAPI
    url: str
    port: int
    server: uvicorn.Server
    thread: threading.Thread
    sock: socket.socket

    def stop(self) -> None:
        """Ask uvicorn to exit, wait for it, and release the port."""
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


def start_server(app: FastAPI, *, host: str = LOOPBACK) -> LiveServer:
    """Serve ``app`` with uvicorn on a free port of ``host``; returns once it accepts connections.

    The URL always points at loopback (a wide ``host`` such as ``0.0.0.0`` includes it).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((host, 0))
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.02)
    return LiveServer(app=app, url=f"http://{LOOPBACK}:{port}", port=port, server=server, thread=thread, sock=sock)


@contextmanager
def serving(app: FastAPI, *, host: str = LOOPBACK) -> Iterator[str]:
    """``start_server`` for a ``with`` block that yields the base URL; the server stops after it."""
    live = start_server(app, host=host)
    try:
        yield live.url
    finally:
        live.stop()


# --- External processes -----------------------------------------------------------------------


def http_ok(url: str, *, timeout_s: float = 2.0) -> Callable[[], bool]:
    """A readiness check: ``GET url`` answers 200."""

    def check() -> bool:
        try:
            return httpx.get(url, timeout=timeout_s).status_code == 200
        except httpx.TransportError:
            return False

    return check


@dataclass
class ServerProcess:
    """A program run for a test: its URL, process and log file (stderr, and stdout unless it was
    given its own file)."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 30) -> str:
        """The last lines the program wrote to its log."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""

    def wait_ready(self, ready: Callable[[], bool], *, timeout_s: float = 90.0, interval_s: float = 0.2) -> None:
        """Poll ``ready`` until it holds; stop the program and raise if it exits or ``timeout_s`` passes."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.process.args!r} exited with {self.process.returncode}:\n{self.log_tail()}")
            if ready():
                return
            time.sleep(interval_s)
        self.stop()
        raise RuntimeError(f"{self.process.args!r} was not ready within {timeout_s:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop the program (SIGTERM, then SIGKILL) and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def launch(
    command: Sequence[str],
    *,
    url: str,
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdout_log: Path | None = None,
) -> ServerProcess:
    """Start ``command`` with stderr (and stdout, unless ``stdout_log`` is given) written to ``log``."""
    with ExitStack() as files:  # the child keeps its own copies of the file handles
        err = files.enter_context(log.open("wb"))
        out = files.enter_context(stdout_log.open("wb")) if stdout_log else err
        process = subprocess.Popen(list(command), env=env, cwd=cwd, stdout=out, stderr=err)
    return ServerProcess(url=url, process=process, log=log)


def start_process(
    command: Sequence[str],
    *,
    url: str,
    log: Path,
    ready: Callable[[], bool],
    timeout_s: float = 90.0,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdout_log: Path | None = None,
) -> ServerProcess:
    """``launch`` then ``wait_ready``: returns a program that passed its readiness check."""
    server = launch(command, url=url, log=log, env=env, cwd=cwd, stdout_log=stdout_log)
    server.wait_ready(ready, timeout_s=timeout_s)
    return server


def run_in_terminal(
    command: Sequence[str],
    *,
    env: dict[str, str],
    cwd: Path | None = None,
    stdin_text: str | None = None,
    until: str | None = None,
    timeout_s: float = 120.0,
) -> str:
    """What a person at a 100-column terminal sees: ``command``'s stdout and stderr on one
    pseudo-terminal. Stops the program (SIGINT, as Ctrl+C) once ``until`` appears in its output;
    fails if it has not ended by ``timeout_s``."""
    import fcntl
    import pty
    import select
    import signal
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    stdin = subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL
    process = subprocess.Popen(list(command), env=env, cwd=cwd, stdin=stdin, stdout=follower, stderr=follower)
    os.close(follower)
    if process.stdin is not None:
        process.stdin.write((stdin_text or "").encode())
        process.stdin.close()
    output = bytearray()
    deadline = time.monotonic() + timeout_s
    interrupted = False
    try:
        while time.monotonic() < deadline:
            if select.select([leader], [], [], 0.2)[0]:
                try:
                    data = os.read(leader, 65536)
                except OSError:  # EIO: every copy of the terminal's other end is closed
                    break
                if not data:
                    break
                output += data
                if until is not None and not interrupted and until.encode() in output:
                    process.send_signal(signal.SIGINT)
                    interrupted = True
        else:
            raise AssertionError(f"{command!r} did not end within {timeout_s:.0f}s:\n{output.decode(errors='replace')}")
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()
        process.wait(15)
    return output.decode(errors="replace").replace("\r\n", "\n")


def fast_env(root: Path, **extra: str) -> dict[str, str]:
    """The environment of a ``qa`` subprocess on ``fast_settings(root)`` (seeds copied once)."""
    return settings_env(fast_settings(root), **extra)


def start_server_process(root: Path, **env: str) -> ServerProcess:
    """``qa serve`` on ``fast_settings(root)`` and a free loopback port; returns once /readyz is 200.

    Its log holds stderr (the JSON log lines); stdout goes beside it (``.out``).
    """
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    log = root / f"server-{port}.log"
    command = [sys.executable, "-m", "qa.cli", "serve", "--host", LOOPBACK, "--port", str(port)]
    return start_process(
        command,
        url=url,
        log=log,
        stdout_log=log.with_suffix(".out"),
        env=fast_env(root, **env),
        cwd=root,
        ready=http_ok(f"{url}/readyz"),
    )


class ExternalServer:
    """A program serving on a free loopback port for a test; ``stop`` then ``start`` simulates an
    outage. Subclasses say how to run it (``command``) and when it is ready (``ready``)."""

    ready_within_s = 90.0

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self._server: ServerProcess | None = None

    def command(self) -> list[str]:
        """The command line that serves on ``self.port``."""
        raise NotImplementedError

    def ready(self) -> bool:
        """Whether it serves yet: by default, whether its port accepts connections."""
        return port_open(self.port)

    def start(self) -> None:
        """Start the program and wait until it is ready."""
        url = f"http://{LOOPBACK}:{self.port}"
        self._server = start_process(
            self.command(), url=url, log=self.log, ready=self.ready, timeout_s=self.ready_within_s
        )

    def stop(self) -> None:
        """Stop the program and wait for it."""
        if self._server is not None:
            self._server.stop()
            self._server = None


class RedisServer(ExternalServer):
    """A throwaway redis-server on loopback that keeps nothing on disk (a stop loses its data)."""

    ready_within_s = 10.0

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir / "redis.log")
        self.url = f"redis://{LOOPBACK}:{self.port}/0"
        self._workdir = workdir

    def command(self) -> list[str]:
        """redis-server on loopback, without snapshots or an append-only file."""
        return [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            LOOPBACK,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self._workdir),
        ]


def clear_of_window_edge(margin_s: float = 15.0) -> None:
    """Wait until the next minute boundary is ``margin_s`` away.

    The in-memory sliding window is aligned to whole minutes and weighs the previous minute's
    requests down as it ages: across a boundary a test's exact counts would be off by one.
    """
    into_minute = time.time() % 60
    if into_minute > 60 - margin_s:
        time.sleep(60 - into_minute + 0.2)
