#!/usr/bin/env bash
# `make setup`: create or update the virtualenv with the CPU build of PyTorch, then seed-qa with
# every other package pinned (and hash-checked) by requirements.lock.
#
# Settings (the Makefile passes them): PYTHON (python3), VENV (.venv), EXTRAS (dev), STAMP,
# TORCH_SPEC (torch==<version>), TORCH_INDEX (PyTorch's CPU wheel index; empty: the configured index).
# How torch is chosen: scripts/install_torch.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
EXTRAS=${EXTRAS:-dev}
TORCH_SPEC=${TORCH_SPEC:?set TORCH_SPEC, e.g. torch==2.13.0}
TORCH_INDEX=${TORCH_INDEX-https://download.pytorch.org/whl/cpu}
STAMP=${STAMP:-$VENV/.installed-${EXTRAS//,/+}}

python_ok() {  # python_ok EXE: EXE runs and is Python 3.11 or newer
  "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
}

if ! python_ok "$PYTHON"; then
  found=$("$PYTHON" --version 2>&1 || true)
  echo "error: seed-qa needs Python 3.11 or newer, but PYTHON=$PYTHON is ${found:-not found}." >&2
  echo "       Install Python 3.11+ and run: make setup PYTHON=python3.11" >&2
  exit 1
fi

# A new virtualenv that fails half-way is removed, so the next `make setup` starts clean instead
# of finding a .venv without its packages; an existing one keeps what it had but loses its stamp.
created=0
cleanup() {
  status=$?
  if [ "$status" -ne 0 ]; then
    if [ "$created" = 1 ]; then
      rm -rf "$VENV"
      echo "error: setting up $VENV failed (see above); removed the half-made $VENV." >&2
    else
      rm -f "$STAMP"
      echo "error: updating $VENV failed (see above); run make setup again, or make clean setup." >&2
    fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP  # Ctrl-C or a killed terminal: exit, so the cleanup above runs

if ! python_ok "$VENV/bin/python"; then
  rm -rf "$VENV"
  created=1
  "$PYTHON" -m venv "$VENV"
fi
pip=("$VENV/bin/python" -m pip)
# pip 26.1 is the first to check the hashes of a constraints file for unpinned requirements.
"${pip[@]}" install --quiet --upgrade 'pip>=26.1'

# CPU torch first (scripts/install_torch.sh, shared with the install check), then the rest.
TORCH_SPEC="$TORCH_SPEC" TORCH_INDEX="$TORCH_INDEX" bash scripts/install_torch.sh "$VENV/bin/python"

# The project's requirements pinned and hash-checked by the lock (all but torch), then the project
# itself, editable and without dependencies (pip cannot hash a folder; scripts/requirements_of.py).
reqs=$(mktemp)
"$VENV/bin/python" scripts/requirements_of.py "$EXTRAS" > "$reqs"
"${pip[@]}" install --quiet -c requirements.lock -r "$reqs"
rm -f "$reqs"
"${pip[@]}" install --quiet --no-deps -e .
touch "$STAMP"
echo "Set up $VENV: $("$VENV/bin/python" -c 'import torch; print("torch", torch.__version__)')"
