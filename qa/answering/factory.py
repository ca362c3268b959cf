"""``build_answerer``: the one place that decides which answerer runs, on how many passages, and
with which abstention threshold."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa.answering.base import Answerer
from qa.answering.sentence import DEFAULT_SENTENCE_THRESHOLD, SentenceAnswerer
from qa.errors import ConfigurationError

if TYPE_CHECKING:
    from qa.config import Settings
    from qa.embedding import Embedder


def build_answerer(settings: Settings, embedder: Embedder) -> Answerer:
    """The answerer the settings ask for.

    Offline: with the trained reader's weights shipped ("auto") or required ("reader"), the
    reader answers from the top ``reader_passages`` chunks (the first ``reader_first_passages``
    alone when they settle it) at its calibrated threshold; otherwise,
    or with "sentence", the sentence answerer reads the top ``top_k`` at DEFAULT_SENTENCE_THRESHOLD.
    QA_ABSTAIN_THRESHOLD overrides the chosen answerer's threshold. With QA_LLM_BASE_URL and
    QA_LLM_MODEL set, a generative answerer over the top ``top_k`` wraps the offline one, which
    stays its fallback.
    """
    override = settings.abstain_threshold
    offline: Answerer = SentenceAnswerer(
        embedder,
        threshold=DEFAULT_SENTENCE_THRESHOLD if override is None else override,
        max_passages=settings.top_k,
    )
    if settings.answerer in ("auto", "reader"):
        from qa.answering.extractive import READ_FEATURES, AnswerModel, ReaderAnswerer
        from qa.onnx_export import configure_threads
        from qa.reader.artifacts import answerer_calibration
        from qa.reader.inference import load_default_reader

        configure_threads(settings.threads)
        reader = load_default_reader(backend=settings.reader_backend, cache_dir=settings.models_path)
        calibration = answerer_calibration()
        if reader is not None and calibration is not None:
            if calibration.features != READ_FEATURES:
                raise ConfigurationError(
                    f"reader_config.json's answer model weighs {calibration.features}, this version reads "
                    f"{READ_FEATURES}; refit it: python -m scripts.calibrate_answerer --write."
                )
            model = AnswerModel(calibration.coef, calibration.intercept, calibration.threshold)
            offline = ReaderAnswerer(
                reader,
                model=model,
                threshold=model.threshold if override is None else override,
                max_passages=settings.reader_passages,
                first_passages=settings.reader_first_passages,
                stop_confidence=settings.reader_stop_confidence,
            )
        elif settings.answerer == "reader":
            raise ConfigurationError("The trained reader's weights are not installed; set QA_ANSWERER=sentence.")
    if settings.llm_base_url and settings.llm_model:
        from qa.answering.generative import build_generative_answerer

        return build_generative_answerer(settings, embedder=embedder, fallback=offline)
    return offline
