"""ONNX Runtime for the embedder and the reader: export once from local weights, cache, run.

A model is exported from its PyTorch module (``torch.onnx.export``, no hub access) into a cache
folder, under a name keyed by the sha256 of its weights file, so new weights export anew. Both
models are BERT encoders: they are exported with eager attention and then fused by ONNX Runtime's
transformer optimizer into its Attention, EmbedLayerNormalization and BiasGelu kernels (the SDPA
export's masking pattern defeats the fusion and ran about 1.2x slower for the same logits); the
residual adds stay Add + LayerNormalization, which ran faster than the fused SkipLayerNormalization.
The int8 variant is ONNX Runtime's dynamic quantisation of the fused fp32 export: MatMul and
Attention weights int8 per output channel, activations quantised per batch (per-tensor weights lost
5 points of cosine to fp32 on all-MiniLM-L6-v2; per-channel keeps 0.99), except the nodes a model
names to keep float (the reader's 2-logit head).
Files are built in a child process (the export's memory goes with it) under a temporary name and
renamed, so two processes exporting at once both end with a whole file.

``configure_threads`` is the one place the CPU thread count is set, for torch and ONNX Runtime.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from qa.errors import ConfigurationError, QAError
from qa.stores.files import file_sha256

Backend = Literal["torch", "onnx", "onnx-int8"]
BACKENDS: tuple[Backend, ...] = ("torch", "onnx", "onnx-int8")

#: Bumped when the export or the quantisation recipe changes, so cached files are rebuilt.
EXPORT_VERSION = "3"

_threads = 0
logger = logging.getLogger(__name__)


def export_recipe(backend: str) -> str:
    """What an index records about how its vectors were made beyond the backend's name."""
    return EXPORT_VERSION if backend in BACKENDS and backend != "torch" else ""


def configure_threads(threads: int) -> int:
    """Set the CPU threads for ONNX Runtime sessions and torch (now, or when it loads); 0 = every core."""
    global _threads
    _threads = threads if threads > 0 else (os.cpu_count() or 1)
    torch_threads()
    return _threads


def torch_threads() -> None:
    """Give torch the configured threads, if torch is loaded: the ONNX path never imports it (2 s)."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and _threads and torch.get_num_threads() != _threads:
        torch.set_num_threads(_threads)


def configured_threads() -> int:
    """The thread count ``configure_threads`` set (every core when it was never called)."""
    return _threads or (os.cpu_count() or 1)


def cached_onnx(
    cache_dir: Path,
    *,
    name: str,
    weights: Path,
    backend: Backend,
    export: Callable[[Path], None],
    keep_float: str = "",
) -> Path:
    """The ONNX file for ``weights`` in ``backend`` form, exported (and quantised) on first use.

    ``keep_float`` (see ``quantize_int8``) is part of the cache key, so a new recipe quantises anew.
    """
    if backend == "torch":
        raise ValueError("backend 'torch' has no ONNX file")
    cache_dir.mkdir(parents=True, exist_ok=True)
    digest = _weights_sha256(weights, cache_dir / f"{name}.weights-sha256.json")
    key = hashlib.sha256(f"{digest}:{EXPORT_VERSION}:{keep_float}".encode()).hexdigest()[:16]
    fp32 = cache_dir / f"{name}-{key}-fp32.onnx"
    int8 = cache_dir / f"{name}-{key}-int8.onnx"
    wanted = fp32 if backend == "onnx" else int8
    if wanted.is_file():
        return wanted
    # One builder at a time per file set: processes starting together (Ray workers, replicas)
    # would otherwise export twice and the quantiser's side file (<fp32>-inferred.onnx) collide.
    with _exclusive(cache_dir / f"{name}-{key}.lock"):
        steps: list[tuple[str, Callable[..., None], tuple[Any, ...]]] = []
        if not fp32.is_file():
            steps.append(("exporting", _build_atomically, (fp32, export)))
        if backend == "onnx-int8" and not int8.is_file():
            steps.append(("quantising", _quantize_atomically, (fp32, int8, keep_float)))
        if steps:
            _run_steps(name, cache_dir, steps)
    return wanted


def _weights_sha256(weights: Path, memo: Path) -> str:
    """``file_sha256(weights)``, remembered in ``memo`` while the file's path, size and mtime stay the same.

    Hashing the two 90 MB weight files took 0.4 s of every `qa ask` (pyinstrument, issue 29).
    """
    import json

    stat = weights.stat()
    stamp = {"path": str(weights.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    with contextlib.suppress(OSError, ValueError):
        known = json.loads(memo.read_text(encoding="utf-8"))
        same_file = isinstance(known, dict) and {k: known.get(k) for k in stamp} == stamp
        if same_file and isinstance(known.get("sha256"), str):
            return str(known["sha256"])
    digest = file_sha256(weights)
    with contextlib.suppress(OSError):  # a read-only cache folder only costs the hash next time
        fd, tmp = tempfile.mkstemp(dir=memo.parent, prefix=f".{memo.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({**stamp, "sha256": digest}, handle)
        os.replace(tmp, memo)
    return digest


#: How long a first run says each build takes: on this project's 2-core machine, busy with other
#: work, the embedder took 36 s and the reader 43 s (export, then int8 quantisation); on a quieter
#: day issue 29 measured 45.6 s for a whole first `qa ask` on an empty cache, both builds included.
EXPORT_SECONDS = "20-45 s on 2 cores"


def _run_steps(name: str, cache_dir: Path, steps: list[tuple[str, Callable[..., None], tuple[Any, ...]]]) -> None:
    """Run each build step in a child process, saying what happens: a live line on a terminal, a log line otherwise."""
    import sys

    from tqdm import tqdm

    what = ", then ".join(step for step, _, _ in steps)
    logger.info("One-time ONNX build of the %s model (%s, %s) into %s.", name, what, EXPORT_SECONDS, cache_dir)
    desc = f"One-time ONNX build of the {name} ({EXPORT_SECONDS})"
    bar_format = "{desc}: {n_fmt}/{total_fmt} steps done, {elapsed}"
    with tqdm(total=len(steps), desc=desc, bar_format=bar_format, disable=not sys.stderr.isatty()) as bar:
        for _, function, args in steps:
            _in_child_process(function, *args, tick=bar.refresh)
            bar.update(1)


def _quantize_atomically(fp32: Path, int8: Path, keep_float: str) -> None:
    _build_atomically(int8, lambda tmp: quantize_int8(fp32, tmp, keep_float=keep_float))


# The child: a fresh interpreter (not a fork of a server with threads, nor a "spawn" that re-runs
# the caller's main script) that takes the parent's import path, then the call, from stdin.
_CHILD = """
import pickle, sys
paths, call = pickle.load(sys.stdin.buffer)
sys.path[:0] = [path for path in paths if path not in sys.path]
function, args = pickle.loads(call)
function(*args)
"""


def _in_child_process(function: Callable[..., None], *args: Any, tick: Callable[[], object] | None = None) -> None:
    """Run ``function(*args)`` in a fresh Python process; the function and arguments must pickle.

    The export loads the PyTorch model and traces it; a process that did it in place kept most of
    that memory (about 1 GB for the reader and the embedder together) for its lifetime, so a
    server that exported on its first start ran at three times its usual size.
    """
    import pickle
    import subprocess
    import sys

    payload = pickle.dumps((sys.path, pickle.dumps((function, args))))
    with tempfile.TemporaryFile() as errors:
        command = [sys.executable, "-c", _CHILD]
        child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors)
        assert child.stdin is not None
        child.stdin.write(payload)
        child.stdin.close()
        while True:  # ``tick`` (a progress line's refresh) runs twice a second while the child works
            try:
                returncode = child.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if tick is not None:
                    tick()
        if returncode != 0:
            errors.seek(0)
            detail = errors.read().decode("utf-8", "replace").strip().splitlines()[-5:]
            raise QAError(f"Building the ONNX model failed (exit {returncode}): " + " | ".join(detail))


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an advisory lock on ``lock_path`` (blocks until other holders are done)."""
    import fcntl

    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def export_bert(module: Any, encoder: Any, sample: dict[str, Any], output_names: list[str], path: Path) -> None:
    """Export ``module`` (built on the BERT ``encoder``) to a fused ONNX graph at ``path``.

    ``sample``'s keys are the (batch, sequence) int64 inputs. The encoder is switched to eager
    attention for the export, whose pattern ONNX Runtime's optimizer fuses (see the module note).
    """
    import warnings

    import torch
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    if hasattr(encoder, "set_attn_implementation"):  # transformers releases before it keep SDPA: unfused, same logits
        encoder.set_attn_implementation("eager")
    names = list(sample)
    axes = {key: {0: "batch", 1: "sequence"} for key in [*names, *output_names]}
    traced = path.with_name(path.name + ".traced")
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about shapes: the axes are declared dynamic
            torch.onnx.export(
                module.eval(),
                tuple(sample[key] for key in names),
                str(traced),
                input_names=names,
                output_names=output_names,
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        config = encoder.config
        options = FusionOptions("bert")
        # Residual adds stay Add + LayerNormalization: ONNX Runtime's fused SkipLayerNormalization
        # kernel took a fifth of the int8 reader's time on 2 cores, the plain pair a third of that.
        options.enable_skip_layer_norm = options.enable_bias_skip_layer_norm = False
        with _quiet_logging():
            # opt_level 0: fusions only; the session applies the machine-specific optimisations at load.
            fused = optimize_model(
                str(traced),
                model_type="bert",
                num_heads=config.num_attention_heads,
                hidden_size=config.hidden_size,
                optimization_options=options,
                opt_level=0,
            )
            fused.save_model_to_file(str(path))
    finally:
        traced.unlink(missing_ok=True)


def quantize_int8(source: Path, target: Path, *, keep_float: str = "") -> None:
    """Dynamic int8 quantisation of the MatMul and fused Attention weights, per output channel.

    Nodes whose names match the regular expression ``keep_float`` stay float.
    """
    import onnx
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source), load_external_data=False).graph
    floats = [node.name for node in graph.node if keep_float and re.search(keep_float, node.name)]
    with _quiet_logging():
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Attention"],
            nodes_to_exclude=floats,
            # The fused kernels live outside ONNX's shape inference; their outputs are float.
            extra_options={"DefaultTensorType": TensorProto.FLOAT},
        )


@contextlib.contextmanager
def _quiet_logging() -> Iterator[None]:
    """Mute log records below ERROR while a one-time export step runs.

    ONNX Runtime's optimizer and quantiser log dozens of notes per model (fusions, tensor types),
    through loggers named after their bare module names and the root logger, into whatever
    configuration the process has (the server's JSON lines).
    """
    previous = logging.root.manager.disable
    logging.disable(max(previous, logging.WARNING))
    try:
        yield
    finally:
        logging.disable(previous)


def ort_session(path: Path) -> Any:
    """An ONNX Runtime CPU session using the configured threads."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise ConfigurationError(
            "The ONNX backends need onnxruntime: `pip install onnxruntime`, or set "
            "QA_EMBEDDING_BACKEND=torch and QA_READER_BACKEND=torch."
        ) from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = configured_threads()
    options.inter_op_num_threads = 1
    # Spinning threads burn the cores other requests (and other processes) need on a small box.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # The export leaves residual adds unfused (see export_bert); the session would fuse them again.
    return ort.InferenceSession(
        str(path), options, providers=["CPUExecutionProvider"], disabled_optimizers=["SkipLayerNormFusion"]
    )


def _build_atomically(path: Path, build: Callable[[Path], None]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".onnx")
    os.close(fd)
    try:
        build(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
