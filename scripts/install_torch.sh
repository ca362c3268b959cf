#!/usr/bin/env bash
# Install the CPU build of PyTorch into a virtualenv: `make setup` (setup_venv.sh) and the
# install check (check_install.sh) both call this, so no install path can let a CUDA torch in.
#
#   bash scripts/install_torch.sh VENV_PYTHON
#
# Settings: TORCH_SPEC (torch==<version>, default the Makefile's), TORCH_INDEX (PyTorch's CPU
# wheel index; empty: the configured index). torch comes from TORCH_INDEX when that answers within
# 5 s (a bare `torch` from PyPI is the multi-gigabyte CUDA build on Linux), otherwise from the
# configured index at once, as on an offline machine whose local index carries a CPU wheel.
# Warns when a CUDA build (nvidia-* packages) came in anyway; check_install.sh fails on it.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${1:?usage: install_torch.sh VENV_PYTHON}
TORCH_SPEC=${TORCH_SPEC:-$(sed -n 's/^TORCH_SPEC ?= *//p' Makefile)}
TORCH_INDEX=${TORCH_INDEX-https://download.pytorch.org/whl/cpu}
pip=("$python" -m pip)

reachable() {  # reachable URL: one try, 5 s, so an offline machine falls back within seconds
  "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5).close()' \
    "$1" >/dev/null 2>&1
}
if [ -n "$TORCH_INDEX" ] && reachable "${TORCH_INDEX%/}/torch/"; then
  echo "Installing $TORCH_SPEC from $TORCH_INDEX"
  "${pip[@]}" install --quiet --index-url "$TORCH_INDEX" "$TORCH_SPEC"
else
  [ -n "$TORCH_INDEX" ] && echo "$TORCH_INDEX cannot be reached; installing $TORCH_SPEC from the configured index."
  "${pip[@]}" install --quiet "$TORCH_SPEC"
fi
if [ -n "$TORCH_INDEX" ] && "${pip[@]}" list 2>/dev/null | grep -qi '^nvidia-'; then
  echo "warning: the configured index served a CUDA build of torch (nvidia-* packages installed)." >&2
  echo "         For the CPU build, point TORCH_INDEX at a reachable CPU wheel index and run make clean setup." >&2
fi
