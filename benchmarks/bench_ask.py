"""`qa ask` wall time: through a running server and in-process, beside `python -c 'import qa'`.

Each figure is the median of --runs runs of the real command (a fresh Python process each, the
bundled model, the project's seeds), printed with its ratio to the import floor measured in the
same run. The in-process runs follow one warm-up run, so the ONNX exports and the index exist.

    HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.bench_ask --runs 5

Issue 29's targets on the project's 2-core machine: through a server under 1 s, in-process under 3 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
QUESTION = "Who makes the TB2?"


def _median_s(command: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall and CPU (user + system) seconds of ``command`` over ``runs`` runs; each must exit 0.

    CPU seconds barely move with the machine's load; wall seconds do (this machine is shared).
    """
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=600)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ask-"))
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("QA_")},
        "PYTHONPATH": str(REPO),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "QA_SEEDS_DIR": str(REPO / "seeds"),
        "QA_INDEX_DIR": str(work / "embeddings"),
        "QA_DATA_DIR": str(work / "data"),
        "QA_PORT": str(port),
        "QA_WATCH": "false",
    }
    qa = [sys.executable, "-m", "qa.cli"]
    subprocess.run([*qa, "ask", QUESTION, "--local"], env=env, check=True, capture_output=True)  # warm-up
    with (work / "server.log").open("wb") as log:
        server = subprocess.Popen([*qa, "serve"], env=env, stdout=log, stderr=log)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit(f"the server did not start: {(work / 'server.log').read_text()[-2000:]}")
        floor = _median_s([sys.executable, "-c", "import qa"], env, args.runs)
        through_server = _median_s([*qa, "ask", QUESTION, "--server", url], env, args.runs)
        in_process = _median_s([*qa, "ask", QUESTION, "--local"], env, args.runs)
    finally:
        server.terminate()
        server.wait(30)
    print(f"median of {args.runs} runs, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print("                                  wall s   ratio    CPU s   ratio")
    for name, (wall, cpu) in (
        ("python -c 'import qa' (floor)", floor),
        ("qa ask --server URL", through_server),
        ("qa ask --local (in-process)", in_process),
    ):
        print(f"  {name:30s} {wall:7.2f} {wall / floor[0]:6.1f}x {cpu:8.2f} {cpu / floor[1]:6.1f}x")


if __name__ == "__main__":
    main()
