#!/usr/bin/env bash
# Regenerate requirements.lock from the dev virtualenv (every installed package, pinned).
# llama-cpp-python is left out: scripts/install_llm_server.sh builds it from a local wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
{
  echo "# Every package of the dev virtualenv, pinned. Regenerate: scripts/update_lock.sh"
  echo "# Use as constraints, after the CPU-only torch that the Makefile installs first:"
  echo "#   .venv/bin/pip install -c requirements.lock -e '.[dev]'"
  .venv/bin/pip freeze --exclude-editable | grep -v ' @ file://'
} > requirements.lock
