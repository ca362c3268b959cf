"""The reader's files: where the shipped weights live and what ``reader_config.json`` says.

``reader_config.json`` beside the weights is the one source of the reader's inference settings
(``ReaderConfig``: window length, stride, longest answer, int8 or not) and of the answer model
scripts/calibrate_answerer.py fits (``AnswererCalibration``). Reading it touches nothing else:
threads are the entry point's business (``qa.onnx_export.configure_threads``, ``QA_THREADS``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import ModelNotFoundError

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "weights"
CONFIG_NAME = "reader_config.json"


@dataclass(frozen=True, slots=True)
class ReaderConfig:
    """How the reader reads: windows of ``max_len`` tokens overlapping by ``stride``."""

    max_len: int
    stride: int
    max_answer_tokens: int
    quantize: bool = False  # dynamic int8 Linear layers on the torch backend


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


def weights_dir_or_default(weights_dir: str | Path | None) -> Path:
    """``weights_dir`` as a ``Path``; the shipped ``qa/reader/weights`` when ``None``."""
    return Path(weights_dir) if weights_dir is not None else DEFAULT_MODEL_DIR


def weights_installed(weights_dir: str | Path | None = None) -> bool:
    """Whether ``weights_dir`` holds the model weights and their ``config.json``."""
    wd = weights_dir_or_default(weights_dir)
    return (wd / "model.safetensors").is_file() and (wd / "config.json").is_file()


def read_reader_config(weights_dir: str | Path | None = None) -> ReaderConfig:
    """The inference settings stored in ``weights_dir/reader_config.json``."""
    path = weights_dir_or_default(weights_dir) / CONFIG_NAME
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        return ReaderConfig(
            max_len=int(stored["max_len"]),
            stride=int(stored["stride"]),
            max_answer_tokens=int(stored["max_answer_tokens"]),
            quantize=bool(stored.get("quantize", False)),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelNotFoundError(
            f"{path} is missing or incomplete ({exc!r}); it needs max_len, stride and max_answer_tokens. "
            "Copy reader_config.json from qa/reader/weights next to the weights."
        ) from None


def update_reader_config(updates: dict[str, Any], weights_dir: str | Path | None = None) -> Path:
    """Merge ``updates`` into ``reader_config.json`` (created if missing); returns its path."""
    path = weights_dir_or_default(weights_dir) / CONFIG_NAME
    config = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    config.update(updates)
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return path


def answerer_calibration(weights_dir: str | Path | None = None) -> AnswererCalibration | None:
    """The span model and threshold scripts/calibrate_answerer.py stored for these weights."""
    try:
        stored = json.loads((weights_dir_or_default(weights_dir) / CONFIG_NAME).read_text(encoding="utf-8"))
        fitted = stored["answerer"]
        return AnswererCalibration(
            features=tuple(str(name) for name in fitted["features"]),
            coef=tuple(float(w) for w in fitted["coef"]),
            intercept=float(fitted["intercept"]),
            threshold=float(fitted["threshold"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
