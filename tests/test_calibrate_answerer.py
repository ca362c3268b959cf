"""scripts/calibrate_answerer.py: the replay of stored reader rows and the labels of the fit."""

import math

from qa.answering.extractive import ReaderAnswerer
from qa.evaluation.testset import EvalCase
from qa.schema import Chunk, Hit
from scripts.calibrate_answerer import SWAPPED, ReplayReader, answer_text, span_label, swapped_questions

TEXT = "Foreign Minister Dmytro Kuleba spoke. Zelensky flew with his defense minister, Rustem Umerov."


def _row(question: str, golds: list[str]) -> dict:  # type: ignore[type-arg]
    start = TEXT.index("Dmytro Kuleba")
    return {"question": question, "golds": golds, "preds": [[start, start + 13, "Dmytro Kuleba", 3.0, 0.0]]}


def _hit() -> Hit:
    return Hit(chunk=Chunk("c1", "d", "doc.txt", "Doc", TEXT, 0, len(TEXT)), score=1.0, rank=1)


def test_the_replay_answers_stored_chunks_and_gives_sentences_read_again_no_span() -> None:
    row = _row("Who is the defense minister?", ["Rustem Umerov"])
    reader = ReplayReader(row, [TEXT])
    answerer = ReaderAnswerer(reader, threshold=0.0, max_passages=1)
    spans = answerer.candidates(row["question"], [_hit()])
    # the answerer read the Umerov sentence again alone; the rows hold no span for it
    assert [s.text for s in spans] == ["Dmytro Kuleba"] and reader.passages_read == 1
    assert not math.isfinite(reader.read("q", ["another passage"])[0].score)


def test_a_sentence_question_is_labelled_and_scored_by_its_sentence() -> None:
    (span,) = ReaderAnswerer(ReplayReader(_row("", []), [TEXT]), threshold=0.0, max_passages=1).candidates(
        "Who spoke?", [_hit()]
    )
    why = _row("Why did Kuleba speak?", ["Foreign Minister Dmytro Kuleba spoke"])
    assert answer_text(why["question"], span) == "Foreign Minister Dmytro Kuleba spoke."
    assert span_label(why, span) == 1.0  # the sentence holds the gold answer
    assert span_label(_row("Who spoke?", ["Kuleba"]), span) == 2 * 0.5 * 1 / 1.5  # span F1
    assert span_label(_row("Who spoke?", []), span) == 0.0


def test_stored_next_best_spans_replay_as_candidates() -> None:
    start = TEXT.index("Rustem Umerov")
    row = _row("Who is the defense minister?", ["Rustem Umerov"])
    row["preds"][0].append([[start, start + 13, "Rustem Umerov", 2.0]])
    answerer = ReaderAnswerer(ReplayReader(row, [TEXT]), threshold=0.0, max_passages=1)
    assert {s.text for s in answerer.candidates(row["question"], [_hit()])} == {"Dmytro Kuleba", "Rustem Umerov"}


def test_swapped_questions_name_what_no_article_holds() -> None:
    cases = [
        EvalCase("a", "When did the Normans conquer England in 1066?", ("1066",), (), True, "when"),
        EvalCase("b", "Who advised Zelensky on drones?", ("Umerov",), (), True, "who"),
        EvalCase("c", "Who was not there?", (), (), False, "who"),
        EvalCase("d", "Where did Kuleba speak?", ("Vilnius",), (), True, "where"),  # Kuleba: in no article
    ]
    corpus = ["the normans conquered england in 1066. zelensky took advice from umerov."]
    swapped = dict(swapped_questions(cases, corpus))
    assert set(swapped) == {"a" + SWAPPED, "b" + SWAPPED}
    originals = {c.id + SWAPPED: c.question.split() for c in cases}
    for key, question in swapped.items():
        changed = [new for old, new in zip(originals[key], question.split(), strict=True) if new != old]
        assert len(changed) == 1 and changed[0].strip("?").lower() not in corpus[0]
