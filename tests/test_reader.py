"""Tests of the trained extractive reader shipped in qa/reader/weights (no /work/shared needed)."""

from __future__ import annotations

import math

import pytest

from qa.evaluation.reader_alone import best_answer, has_answer_confidence
from qa.reader.artifacts import answerer_calibration, weights_installed
from qa.reader.inference import ExtractiveReader, load_default_reader

pytestmark = pytest.mark.skipif(not weights_installed(), reason="reader weights not installed")

BAYKAR = (
    "In January, executives from the privately-owned Baykar company, which manufactures the Bayraktar TB2 "
    "drone, widely used by Ukrainians against Russians at the start of the conflict, inaugurated a factory "
    "to manufacture these aircraft on the outskirts of Kyiv."
)
AMMO = "Kyiv's allies are seeking to acquire some 800,000 rounds of ammunition and shells from non-European countries"
UMEROV = (
    "Traveling to Istanbul with his defense minister, Rustem Umerov, Zelensky was counting on the support of Turkey"
)


@pytest.fixture(scope="module")
def reader() -> ExtractiveReader:
    return ExtractiveReader.load()


@pytest.mark.parametrize(
    ("passage", "question", "expected"),
    [
        (BAYKAR, "Who makes the TB2?", "Baykar"),
        (AMMO, "How many rounds are allies seeking?", "800,000"),
        (UMEROV, "Who is the defense minister?", "Rustem Umerov"),
    ],
)
def test_reads_short_passage(reader, passage, question, expected):
    (pred,) = reader.read(question, [passage])
    assert pred.passage_index == 0
    assert passage[pred.start : pred.end] == pred.text
    assert expected.lower() in pred.text.lower()
    assert len(pred.text) <= len(expected) + 12
    best = best_answer([pred])
    assert best.confidence > 0.5  # the span beats "no answer"


def test_best_span_across_passages(reader):
    passages = [UMEROV, AMMO, BAYKAR]
    preds = reader.read("Who makes the TB2?", passages)
    assert [p.passage_index for p in preds] == [0, 1, 2]
    for p, text in zip(preds, passages, strict=True):
        assert text[p.start : p.end] == p.text
        assert math.isfinite(p.no_answer_score)
    best = best_answer(preds)
    assert best.span is not None and best.span.passage_index == 2
    assert "baykar" in best.span.text.lower()
    assert 0.0 < best.confidence < 1.0
    assert best.confidence == pytest.approx(has_answer_confidence(best.span.score, best.span.no_answer_score))
    # an unrelated passage does not lower the confidence of the passage that answers
    alone = best_answer(reader.read("Who makes the TB2?", [BAYKAR]))
    assert best.confidence == pytest.approx(alone.confidence, abs=1e-4)


def test_long_passage_uses_windows(reader):
    filler = "The weather in the region was mild for most of the year and nothing else happened. " * 40
    passage = filler + BAYKAR + " " + filler
    (pred,) = reader.read("Who makes the TB2?", [passage])
    assert passage[pred.start : pred.end] == pred.text
    # The answer comes from the window holding the sentence, mapped back to the passage's offsets.
    # (Which span of it is the model's call: the stage-4 weights answer "the Bayraktar TB2 drone"
    # here, and "Baykar company" to the sentence alone; see the model card's limitations.)
    sentence_start = len(filler)
    assert sentence_start <= pred.start < pred.end <= sentence_start + len(BAYKAR)
    (named,) = reader.read("Which company manufactures the TB2?", [passage])
    assert "baykar" in named.text.lower()


def test_next_best_spans_are_kept_apart_from_the_best_one(reader):
    minutes = (
        "Present: Sofia Lindqvist (Head of Product, chair), Daniel Okafor (Head of Engineering), "
        "Priya Natarajan (Head of Customer Support), Tomasz Wrona (Finance Manager)."
    )
    (pred,) = reader.read("Who is the head of engineering?", [minutes])
    spans = [pred, *pred.alternatives]
    assert len(spans) == 1 + reader.alternatives
    assert all(minutes[s.start : s.end] == s.text for s in spans)
    assert [s.score for s in spans] == sorted((s.score for s in spans), reverse=True)
    # none overlaps a better one, and the asked person is among them for the answerer to weigh
    assert all(a.end <= b.start or b.end <= a.start for i, a in enumerate(spans) for b in spans[i + 1 :])
    assert any("Daniel Okafor" in s.text for s in spans)
    assert reader.read("Who?", [minutes])[0].passage_index == 0
    (best_only,) = ExtractiveReader(reader.model, reader.tokenizer, reader.config, alternatives=0).read(
        "Who is the head of engineering?", [minutes]
    )
    assert best_only.alternatives == () and (best_only.start, best_only.end) == (pred.start, pred.end)


def test_unrelated_question_has_low_confidence(reader):
    related = best_answer(reader.read("Who makes the TB2?", [BAYKAR]))
    unrelated = best_answer(reader.read("What is the boiling point of mercury?", [BAYKAR]))
    assert unrelated.confidence < related.confidence


def test_empty_inputs(reader):
    assert reader.read("Who?", []) == []
    assert best_answer([]).span is None


def test_reader_answerer_picks_the_answering_chunk(reader):
    from qa.answering import AnswerModel, ReaderAnswerer
    from qa.schema import Chunk, Hit

    prefix = "Unrelated opening sentence. "
    doc_text = prefix + BAYKAR + " Another sentence follows here."
    start = len(prefix)
    chunk = Chunk(
        id="c1", doc_id="d1", source="news.txt", title="News", text=doc_text[start:], start=start, end=len(doc_text)
    )
    other = Chunk(id="c2", doc_id="d2", source="ammo.txt", title="Ammo", text=AMMO, start=0, end=len(AMMO))
    hits = [Hit(chunk=other, score=0.5, rank=1), Hit(chunk=chunk, score=0.4, rank=2)]
    calibration = answerer_calibration()
    assert calibration is not None
    model = AnswerModel(calibration.coef, calibration.intercept, calibration.threshold)
    answerer = ReaderAnswerer(reader, model=model, threshold=0.0, max_passages=5)
    draft = answerer.answer("Who makes the TB2?", hits)
    assert "baykar" in draft.answer.lower() and len(draft.answer) <= len("the privately-owned Baykar company")
    assert draft.sentence == BAYKAR
    (ev,) = draft.evidence
    assert ev.chunk is chunk
    assert doc_text[ev.start : ev.end] == BAYKAR == ev.quote


def test_shipped_calibration_is_sane():
    calibration = answerer_calibration()
    assert calibration is not None
    from qa.answering import READ_FEATURES

    assert calibration.features == READ_FEATURES and len(calibration.coef) == len(READ_FEATURES)
    assert calibration.coef[READ_FEATURES.index("margin")] > 0  # a surer reader means a likelier answer
    assert 0.0 < calibration.threshold < 1.0
    assert load_default_reader() is load_default_reader()  # cached per process


def test_windows_are_read_in_the_same_order_and_with_the_same_logits_however_they_are_batched(reader):
    passages = [BAYKAR, AMMO, UMEROV, AMMO + " " + BAYKAR, "Short."]
    one_by_one = ExtractiveReader(reader.model, reader.tokenizer, reader.config, batch_size=1)
    batched, alone = reader.read("Who makes the TB2?", passages), one_by_one.read("Who makes the TB2?", passages)
    for mine, theirs in zip(batched, alone, strict=True):
        assert (mine.text, mine.start, mine.end) == (theirs.text, theirs.start, theirs.end)
        assert mine.score == pytest.approx(theirs.score, abs=1e-3)
        assert mine.no_answer_score == pytest.approx(theirs.no_answer_score, abs=1e-3)


def test_the_tokenizers_windows_are_the_transformers_windows() -> None:
    """``Windows`` (the `tokenizers` package alone: no transformers, no torch to import) gives the
    windows the training code's ``encode_windows`` gives, offsets and question clipping included."""
    from pathlib import Path

    from transformers import AutoTokenizer

    from qa.reader.model import Windows, base_model_path, encode_windows

    hf = AutoTokenizer.from_pretrained(base_model_path(), use_fast=True)
    seed = (Path(__file__).resolve().parents[1] / "seeds" / "zelensky-istanbul-turkish-drones.txt").read_text("utf-8")
    passages = [seed, "Café Ångström naïve résumé — “quotes” 東京 😀 e.g. U.S.A. 1,234.5 km²", "x" * 3000, BAYKAR]
    questions = ["Who makes the TB2?", "What is " + "very " * 80 + "long?", "Где İstanbul?", "Ölçek?"]
    windows = Windows(hf, max_len=128, stride=32)
    for question in questions:
        expected = encode_windows(hf, [question] * len(passages), passages, max_len=128, stride=32)
        got = windows.encode([question] * len(passages), passages)
        assert len(got["input_ids"]) > len(passages)  # long passages did overflow into several windows
        for key in ("input_ids", "token_type_ids", "offset_mapping", "overflow_to_sample_mapping"):
            assert got[key] == [list(row) if key != "overflow_to_sample_mapping" else row for row in expected[key]], key
