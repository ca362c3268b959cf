"""Crash-safe ingest: ``qa ingest`` killed with SIGKILL at chosen and at arbitrary moments, and
damaged index files. After every kill ``qa doctor`` finds a whole index (the old or the new one,
never a mix), ``qa ask`` answers, and the next ``qa ingest`` completes. A damaged index is a clear
error naming ``qa ingest --rebuild``, never a traceback or a wrong answer.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import TB2_QUESTION, fast_env

pytestmark = pytest.mark.slow

PAUSE_POINTS = ("embedding", "index-write", "manifest-write", "after-commit")


def qa(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real ``qa`` command line to completion."""
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def manifest_files(index_dir: Path) -> dict[str, str]:
    return dict(json.loads((index_dir / "manifest.json").read_text())["files"])


def add_documents(seeds: Path, tag: str, count: int) -> None:
    """``count`` generated articles (a few seconds of embedding at a few hundred)."""
    words = "drone factory engine wing battery radar pilot runway export contract sensor fuel payload".split()  # noqa: SIM905
    for i in range(count):
        sentences = " ".join(
            " ".join(words[(i * 7 + j * 3 + k) % len(words)] for k in range(12)).capitalize() + f" ({tag} {i}.{j})."
            for j in range(30)
        )
        (seeds / f"{tag}-{i:03d}.txt").write_text(f"Generated {tag} {i}\n\n{sentences}\n", encoding="utf-8")


def assert_whole_index(env: dict[str, str], index_dir: Path, allowed: list[dict[str, str]], when: str) -> None:
    """Doctor finds the index whole, it is one of ``allowed``, and ``qa ask`` answers from it."""
    doctor = qa(env, "doctor")
    assert "Traceback" not in doctor.stdout + doctor.stderr, doctor.stderr
    assert "ok  index:" in doctor.stdout, f"after a kill {when}: {doctor.stdout}{doctor.stderr}"
    files = manifest_files(index_dir)
    assert any(files == expected for expected in allowed), f"after a kill {when}: the manifest is neither old nor new"
    answer = qa(env, "ask", TB2_QUESTION, "--json", "--local")
    assert answer.returncode == 0, f"after a kill {when}: {answer.stderr}"
    assert json.loads(answer.stdout)["answer"] == "Baykar"


def kill(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = fast_env(tmp_path)
    built = qa(env, "ingest")
    assert built.returncode == 0, built.stderr
    return env


def test_kill_at_each_moment_leaves_old_or_new_index(env: dict[str, str], tmp_path: Path) -> None:
    seeds, index_dir = Path(env["QA_SEEDS_DIR"]), Path(env["QA_INDEX_DIR"])
    pause_file = tmp_path / "paused-at"
    for round_, moment in enumerate(PAUSE_POINTS):
        old = manifest_files(index_dir)
        add_documents(seeds, f"round{round_}", 40)
        pause_file.unlink(missing_ok=True)
        shim_env = {**env, "QA_TEST_PAUSE_AT": moment, "QA_TEST_PAUSE_FILE": str(pause_file)}
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.hardening.ingest_shim", "ingest"],
            env=shim_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while not pause_file.exists():
            assert process.poll() is None, f"ingest ended before reaching {moment}"
            assert time.monotonic() < deadline, f"ingest never reached {moment}"
            time.sleep(0.05)
        assert pause_file.read_text() == moment
        kill(process)
        new = {**old, **{p.relative_to(seeds).as_posix(): "" for p in seeds.glob(f"round{round_}-*.txt")}}
        after = manifest_files(index_dir)
        # The manifest is the commit point: before it is replaced the old index stands, after it the new.
        expected_new = moment == "after-commit"
        assert (set(after) == set(new)) is expected_new and (after == old) is not expected_new, moment
        assert_whole_index(env, index_dir, [old, after], when=f"at {moment}")
        finished = qa(env, "ingest")
        assert finished.returncode == 0, finished.stderr
        assert set(manifest_files(index_dir)) == set(new)
        assert "ok  consistency" in qa(env, "doctor").stdout
        leftovers = [p.name for p in index_dir.iterdir() if p.name.endswith(".tmp")]
        assert leftovers == [], f"temp files left after the following ingest: {leftovers}"


def test_kill_at_arbitrary_moments_of_a_long_rebuild(env: dict[str, str]) -> None:
    seeds, index_dir = Path(env["QA_SEEDS_DIR"]), Path(env["QA_INDEX_DIR"])
    add_documents(seeds, "bulk", 300)
    assert qa(env, "ingest").returncode == 0
    complete = manifest_files(index_dir)
    started = time.monotonic()
    assert qa(env, "ingest", "--rebuild").returncode == 0
    full_run = time.monotonic() - started
    for fraction in (0.35, 0.6, 0.8, 0.95):  # start-up, loading, embedding, writing: wherever they fall
        process = subprocess.Popen(
            [sys.executable, "-m", "qa.cli", "ingest", "--rebuild"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(full_run * fraction)
        if process.poll() is None:
            kill(process)
        assert_whole_index(env, index_dir, [complete], when=f"{fraction:.0%} into a rebuild")
    assert qa(env, "ingest").returncode == 0


CORRUPTIONS = {
    "truncated vectors": lambda d, m: truncate(d / m["artifacts"]["vectors"]["file"]),
    "flipped byte in chunks": lambda d, m: flip(d / m["artifacts"]["chunks"]["file"]),
    "missing documents file": lambda d, m: (d / m["artifacts"]["documents"]["file"]).unlink(),
    "truncated manifest": lambda d, m: truncate(d / "manifest.json"),
    "manifest not JSON": lambda d, m: (d / "manifest.json").write_bytes(b"\x00\xffnot json"),
    "manifest with wrong counts": lambda d, m: (d / "manifest.json").write_text(
        json.dumps({**m, "chunk_count": 10**9})
    ),
    "empty vectors file": lambda d, m: (d / m["artifacts"]["vectors"]["file"]).write_bytes(b""),
}


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", list(CORRUPTIONS))
def test_damaged_index_is_a_clear_error_naming_the_fix(env: dict[str, str], damage: str) -> None:
    index_dir = Path(env["QA_INDEX_DIR"])
    CORRUPTIONS[damage](index_dir, json.loads((index_dir / "manifest.json").read_text()))
    answer = qa(env, "ask", TB2_QUESTION, "--json", "--local")
    doctor = qa(env, "doctor")
    for run in (answer, doctor):
        assert run.returncode == 1, run.stdout
        assert "Traceback" not in run.stderr + run.stdout
        assert "qa ingest --rebuild" in run.stderr + run.stdout, run.stderr + run.stdout
    assert answer.stdout == ""  # no answer at all rather than a wrong one
    assert qa(env, "ingest", "--rebuild").returncode == 0
    fixed = qa(env, "ask", TB2_QUESTION, "--json", "--local")
    assert fixed.returncode == 0 and json.loads(fixed.stdout)["answer"] == "Baykar"
