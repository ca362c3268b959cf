#!/usr/bin/env bash
# Regenerate requirements.lock: every dependency of seed-qa[dev,llm,scale], pinned, with the sha256
# of every file PyPI serves for that version, for Linux, macOS and Windows on Python 3.11+.
#
# torch is left out: `make setup` and the Dockerfile install TORCH_SPEC (the Makefile's) first,
# from PyTorch's CPU index, so the lock must not pin a CPU-only local version (`+cpu`) that PyPI
# does not serve. The pins are resolved against that torch, and torch's CUDA-only dependencies
# (nvidia-*, cuda-*, triton), which a CPU build never needs, are left out too.
#
# Versions already in the lock are kept where they still fit (uv reads the old lock as preferences);
# run with --upgrade to move everything to the newest versions.
# Needs the network to PyPI. uv is installed into .venv on first use (PYTHON=... to use another).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
TORCH_SPEC=${TORCH_SPEC:-$(sed -n 's/^TORCH_SPEC ?= *//p' Makefile)}
"$PYTHON" -m uv --version >/dev/null 2>&1 || "$PYTHON" -m pip install --quiet uv

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "$TORCH_SPEC" > "$tmp/torch.txt"
[ -f requirements.lock ] && cp requirements.lock "$tmp/requirements.lock"

compile() {  # compile [extra uv args...]: resolve into $tmp/requirements.lock
  "$PYTHON" -m uv pip compile pyproject.toml --extra dev --extra llm --extra scale \
    --universal --python-version 3.11 --generate-hashes --no-config \
    --index-url https://pypi.org/simple --constraint "$tmp/torch.txt" \
    --no-emit-package torch --no-header --quiet "$@" -o "$tmp/requirements.lock"
}

# Pass 1 finds torch's CUDA-only dependencies; pass 2 leaves them out.
compile "${@}"
cuda_only=$(grep -oE '^(nvidia-[a-z0-9-]+|cuda-[a-z0-9-]+|triton)==' "$tmp/requirements.lock" | tr -d '=' || true)
compile "${@}" $(for name in $cuda_only; do printf -- '--no-emit-package %s ' "$name"; done)

{
  echo "# seed-qa[dev,llm,scale] pinned with hashes, without torch. Regenerate: scripts/update_lock.sh"
  echo "# Used as constraints (pins and hashes checked) after torch: \`make setup\` runs"
  echo "#   pip install -c requirements.lock -e '.[dev]'"
  echo "# and deploy/Dockerfile  pip install -c requirements.lock '.[llm,scale]'"
  echo "# torch ($TORCH_SPEC) and its CUDA-only dependencies are left out on purpose (see the script)."
  cat "$tmp/requirements.lock"
} > requirements.lock
echo "requirements.lock: $(grep -cE '^[A-Za-z0-9]' requirements.lock) packages pinned with hashes"
