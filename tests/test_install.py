"""The install path and the docs agree with the code: the lock covers pyproject, torch is pinned in one
way everywhere, and the README's test commands select what they say (issue 14 item 10, issue 16)."""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements.lock"
SETUP = REPO / "scripts" / "setup_venv.sh"

_spec = importlib.util.spec_from_file_location("requirements_of", REPO / "scripts" / "requirements_of.py")
assert _spec and _spec.loader
requirements_of = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(requirements_of)


def _name(requirement: str) -> str:
    """PEP 503 name of a requirement line (``Foo_bar[x]>=1; marker`` -> ``foo-bar``)."""
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def _lock_pins() -> dict[str, list[str]]:
    """Each pinned line of the lock (name -> its ``name==version ...`` blocks, hashes included)."""
    pins: dict[str, list[str]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text(encoding="utf-8")):
        if block[:1].isalnum():
            pins.setdefault(_name(block), []).append(block)
    return pins


def _extras() -> list[str]:
    return list(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"])


def test_lock_pins_every_requirement_of_every_extra_but_torch() -> None:
    pins = _lock_pins()
    wanted = {_name(line) for line in requirements_of.requirements(_extras())} - {"torch"}
    missing = sorted(wanted - pins.keys())
    assert not missing, f"requirements.lock lacks {missing}: run scripts/update_lock.sh after editing pyproject.toml"


def test_lock_has_hashes_no_local_versions_and_no_torch_or_cuda() -> None:
    pins = _lock_pins()
    assert len(pins) > 50
    for name, blocks in pins.items():
        for block in blocks:
            assert "--hash=sha256:" in block, f"{name} has no hash in requirements.lock"
            version = block.split("==", 1)[1].split()[0]
            assert "+" not in version, f"{name}=={version} is a local version no public index serves"
    forbidden = [n for n in pins if n == "torch" or n == "triton" or n.startswith(("nvidia-", "cuda-"))]
    assert not forbidden, f"requirements.lock pins {forbidden}: torch comes from TORCH_SPEC, CPU build"


def test_requirements_of_expands_self_references_and_rejects_unknown_extras() -> None:
    dev = {_name(line) for line in requirements_of.requirements(["dev"])}
    assert {"openai", "pytest", "fastapi"} <= dev  # openai through seed-qa[llm]
    assert "seed-qa" not in dev
    assert "openai" not in {_name(line) for line in requirements_of.requirements([])}
    with pytest.raises(SystemExit, match="unknown extra 'nope'"):
        requirements_of.requirements(["nope"])


def test_torch_spec_is_the_same_in_the_makefile_and_the_dockerfile() -> None:
    make = re.search(r"^TORCH_SPEC \?= (\S+)$", (REPO / "Makefile").read_text(), re.MULTILINE)
    docker = re.search(r"^ARG TORCH_SPEC=(\S+)$", (REPO / "deploy" / "Dockerfile").read_text(), re.MULTILINE)
    assert make and docker
    assert make.group(1) == docker.group(1)
    assert "+" not in make.group(1), "a local version (+cpu) exists only on one index"


def test_setup_refuses_an_old_python_before_touching_the_venv(tmp_path: Path) -> None:
    old_python = tmp_path / "python3.10"
    old_python.write_text("#!/bin/sh\necho 'Python 3.10.12'\nexit 1\n")
    old_python.chmod(0o755)
    venv = tmp_path / "venv"
    result = subprocess.run(
        ["bash", str(SETUP)],
        env={"PATH": "/usr/bin:/bin", "PYTHON": str(old_python), "VENV": str(venv), "TORCH_SPEC": "torch==2.13.0"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "needs Python 3.11 or newer" in result.stderr
    assert "Python 3.10.12" in result.stderr
    assert "make setup PYTHON=python3.11" in result.stderr
    assert not venv.exists()


@pytest.mark.slow  # creates a virtualenv: ~30 s on 2 busy cores
def test_setup_removes_a_new_venv_when_an_install_fails(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    result = subprocess.run(
        ["bash", str(SETUP)],
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHON": sys.executable,
            "VENV": str(venv),
            # No index at all: the first pip install fails, as it would offline.
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": "",
            "PIP_CONFIG_FILE": "/dev/null",
            "TORCH_SPEC": "torch==2.13.0",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "removed the half-made" in result.stderr
    assert not venv.exists()


def _readme_fast_command() -> str:
    match = re.search(r"`make test-fast` \(= `([^`]+)`\)", (REPO / "README.md").read_text())
    assert match, "README.md should give the fast test command as: `make test-fast` (= `...`)"
    return match.group(1)


def test_readme_fast_command_is_the_makefile_one_and_uses_declared_markers() -> None:
    command = _readme_fast_command()
    make = re.search(r"^FAST_MARKERS := (.+)$", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert make and command.endswith(make.group(1)), (command, make and make.group(1))
    expression = shlex.split(command)[-1]
    declared = {
        m.split(":")[0]
        for m in tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["markers"]
    }
    used = set(re.findall(r"[a-z0-9_]+", expression)) - {"not", "and", "or"}
    assert used <= declared, f"undeclared markers {used - declared}"
    assert {"e2e", "slow", "browser", "llm"} <= used


@pytest.mark.slow  # a second pytest collecting the browser and crash tests: ~20 s
def test_readme_fast_command_deselects_the_slow_tests() -> None:
    expression = shlex.split(_readme_fast_command())[-1]
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-m",
            expression,
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/hardening/test_ingest_crash.py",
            "tests/api/test_browser.py",
            "tests/test_install.py",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    ids = [line for line in run.stdout.splitlines() if "::" in line]
    assert ids, run.stdout + run.stderr
    assert all(line.startswith("tests/test_install.py::") for line in ids), ids


def test_docs_do_not_call_installed_features_missing() -> None:
    api_doc = (REPO / "docs" / "API.md").read_text()
    assert "not installed yet" not in api_doc
    assert "QA_REDIS_URL" in api_doc


def test_the_cpu_torch_came_without_cuda_packages() -> None:
    """`make setup` installs the CPU build: no nvidia-* package, unless a CUDA build was asked for."""
    from importlib.metadata import distributions

    import torch

    if torch.version.cuda:
        pytest.skip(f"this environment chose a CUDA build of torch ({torch.__version__})")
    cuda = sorted({d.metadata["Name"] for d in distributions() if d.metadata["Name"].lower().startswith("nvidia-")})
    assert not cuda, f"CPU torch {torch.__version__} but CUDA packages installed: {cuda}"


def test_make_run_takes_port_and_host() -> None:
    """`make run PORT=8100 HOST=...` serves there (README); without them, the settings decide."""
    # Run as a top-level make even under `make test` (CI): no inherited flags, no "Entering directory".
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    make = ["make", "--no-print-directory", "-n", "run"]
    dry = subprocess.run(
        [*make, "PORT=8100", "HOST=0.0.0.0"], cwd=REPO, capture_output=True, text=True, timeout=30, env=env
    )
    assert "qa serve --host '0.0.0.0' --port '8100'" in dry.stdout, dry.stdout + dry.stderr
    plain = subprocess.run(make, cwd=REPO, capture_output=True, text=True, timeout=30, env=env)
    assert plain.stdout.rstrip().endswith("qa serve"), plain.stdout
    assert "make run PORT=8100" in (REPO / "README.md").read_text()
