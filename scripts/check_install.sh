#!/usr/bin/env bash
# The README's other install path, checked: build the wheel, install it into a fresh virtualenv
# WITHOUT requirements.lock (as `pip install .` does), and ingest one file of every supported
# format with the installed `qa`. A dependency missing from pyproject.toml (lxml_html_clean, which
# trafilatura needs, was one: issue 29) fails here, while `make setup` would hide it behind the lock.
#
#   bash scripts/check_install.sh            # PYTHON=python3.11 to pick the interpreter
#
# torch is the CPU build, installed first exactly as `make setup` does (scripts/install_torch.sh);
# any nvidia-* package is a failure. 6 minutes on 2 busy cores (packages from the network).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
PYTHON=${PYTHON:-python3}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
venv="$work/venv"

echo "check_install: building the wheel"
"$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" .
echo "check_install: fresh virtualenv, CPU torch, then the wheel without the lock"
"$PYTHON" -m venv "$venv"
bash scripts/install_torch.sh "$venv/bin/python"
"$venv/bin/python" -m pip install --quiet --no-compile "$work"/dist/*.whl  # no .pyc: the venv is used once
if "$venv/bin/python" -m pip list 2>/dev/null | grep -i '^nvidia-'; then
  echo "FAIL: the install pulled the CUDA packages above (a CUDA build of torch)" >&2
  exit 1
fi

# From a folder outside the repository, with no PYTHONPATH, so only the installed package is used.
cd "$work"
export -n PYTHONPATH
unset PYTHONPATH
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 QA_EMBEDDING_BACKEND=torch  # torch: no ONNX export to wait for
"$venv/bin/python" "$repo/scripts/format_samples.py" samples >/dev/null
expected=$(ls samples | wc -l)
"$venv/bin/qa" ingest --seeds samples --index index 2>"$work/ingest.err" | tee "$work/ingest.out"
cat "$work/ingest.err" >&2
if grep -qE '^(skipped |error|Traceback)' "$work/ingest.err"; then
  echo "FAIL: qa ingest skipped a file or failed (above)" >&2
  exit 1
fi
if ! grep -q " $expected added" "$work/ingest.out"; then
  echo "FAIL: expected all $expected sample files ($(ls samples | tr '\n' ' ')) to be added" >&2
  exit 1
fi
echo "check_install: OK, the wheel installed without the lock ingests all $expected formats"
