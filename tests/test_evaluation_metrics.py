"""Metric functions against hand-computed cases (qa/evaluation/metrics.py, abstention.py)."""

import math

import pytest

from qa.evaluation.abstention import best_point, default_thresholds, sweep
from qa.evaluation.metrics import (
    answer_correct,
    exact_match,
    f1_score,
    gold_items,
    ideal_gains,
    matches_evidence,
    ndcg,
    normalize_answer,
    percentile,
    prf,
    ranking_gains,
)
from qa.evaluation.results import QuestionRow
from qa.evaluation.testset import GoldEvidence


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The  Quick, brown fox!", "quick brown fox"),
        ("An apple a day", "apple day"),
        ("theatre and anthem", "theatre and anthem"),  # articles only as whole words
        ("U.S.A.", "usa"),
        ("state-of-the-art", "stateoftheart"),  # punctuation removed before articles, as in the official script
        ("  \tTHE\nEnd  ", "end"),
        ("800,000", "800000"),
        ("", ""),
    ],
)
def test_squad_normalisation(text: str, expected: str) -> None:
    assert normalize_answer(text) == expected


def test_exact_match_takes_the_best_alias_and_treats_abstention_as_the_empty_answer() -> None:
    assert exact_match("the Eiffel Tower", ["Paris", "Eiffel Tower"]) == 1.0
    assert exact_match("Eiffel", ["Eiffel Tower"]) == 0.0
    assert exact_match("", []) == 1.0  # abstained on an unanswerable question
    assert exact_match("Paris", []) == 0.0  # answered an unanswerable question
    assert exact_match("", ["Paris"]) == 0.0


def test_f1_hand_computed() -> None:
    # "in 10th and 11th centuries" (5 tokens) vs "10th and 11th centuries" (4): P=4/5, R=1.
    assert f1_score("in the 10th and 11th centuries", ["10th and 11th centuries"]) == pytest.approx(8 / 9)
    assert f1_score("in the 10th and 11th centuries", ["nope", "in the 10th and 11th centuries"]) == 1.0
    # Repeated tokens count once per occurrence: common = red + blue = 2 of 3 each side.
    assert f1_score("red red blue", ["red blue blue"]) == pytest.approx(2 / 3)
    assert f1_score("cat", ["dog"]) == 0.0
    assert f1_score("", ["dog"]) == 0.0
    assert f1_score("", []) == 1.0
    assert f1_score("the", ["a"]) == 1.0  # both normalise to nothing


def test_answer_correct_is_exact_match_or_an_alias_inside_the_answer_as_whole_words() -> None:
    assert answer_correct("Baykar", ["Baykar"])
    assert answer_correct("the privately-owned Baykar company", ["Baykar"])
    assert answer_correct("Recep Tayyip Erdogan.", ["Erdogan"])
    assert not answer_correct("Baykars", ["Baykar"])
    assert not answer_correct("Tuzla", ["Tuzla shipyards"])  # a shorter answer is not the alias
    assert not answer_correct(None, ["Baykar"])
    assert not answer_correct("anything", [])


def test_citation_matching_uses_half_open_overlap_in_the_same_source_or_the_quote() -> None:
    gold = GoldEvidence(source="a.txt", start=20, end=30)
    assert not matches_evidence("a.txt", 10, 20, "x", gold)  # touches, does not overlap
    assert matches_evidence("a.txt", 10, 21, "x", gold)
    assert matches_evidence("a.txt", 29, 40, "x", gold)
    assert not matches_evidence("b.txt", 20, 30, "x", gold)
    quote = GoldEvidence(quote="Rustem  Umerov")
    assert matches_evidence("any.txt", 0, 5, "his defense minister, rustem umerov, said", quote)
    assert not matches_evidence("any.txt", 0, 5, "his defense minister", quote)
    sourced_quote = GoldEvidence(source="a.txt", quote="Umerov")
    assert not matches_evidence("b.txt", 0, 5, "Umerov", sourced_quote)


def test_overlapping_gold_spans_are_one_item_and_each_item_is_found_once() -> None:
    evidence = [
        GoldEvidence("a.txt", 10, 20),
        GoldEvidence("a.txt", 15, 25),  # overlaps the first: same item
        GoldEvidence("a.txt", 100, 110),
        GoldEvidence("b.txt", 10, 20),
    ]
    assert [len(item) for item in gold_items(evidence)] == [2, 1, 1]
    ranked = [("c.txt", 0, 50, ""), ("a.txt", 0, 50, ""), ("a.txt", 5, 30, ""), ("b.txt", 0, 50, "")]
    assert ranking_gains(ranked, evidence) == [0.0, 1.0, 0.0, 1.0]


def test_ndcg_hand_computed() -> None:
    assert ndcg([1.0], [1.0]) == 1.0
    assert ndcg([0.0, 1.0], [1.0]) == pytest.approx(1 / math.log2(3))
    graded = [GoldEvidence("a.txt", 0, 10, relevance=1), GoldEvidence("b.txt", 0, 10, relevance=2)]
    assert ideal_gains(graded) == [2.0, 1.0]
    gains = ranking_gains([("a.txt", 0, 5, ""), ("b.txt", 0, 5, "")], graded)
    assert ndcg(gains, ideal_gains(graded)) == pytest.approx((1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))
    assert ndcg([0.0] * 10 + [1.0], [1.0], k=10) == 0.0  # found beyond the cut-off
    assert ndcg([], []) == 0.0


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_prf_is_undefined_not_zero_without_counts() -> None:
    assert prf(0, 0, 3) == (None, 0.0, None)
    assert prf(2, 4, 2) == (0.5, 1.0, pytest.approx(2 / 3))
    assert prf(0, 2, 2) == (0.0, 0.0, 0.0)


def _row(answerable: bool, status: str, confidence: float, correct: bool | None) -> QuestionRow:
    return QuestionRow(
        id=f"q{confidence}",
        question="?",
        type="what",
        answerable=answerable,
        expected=("x",) if answerable else (),
        got="x" if status == "answered" else None,
        status=status,
        confidence=confidence,
        citations=(),
        correct=correct,
    )


def test_sweep_replays_thresholds_and_picks_the_lowest_best_f1() -> None:
    rows = [
        _row(True, "answered", 0.8, True),
        _row(True, "answered", 0.6, True),
        _row(False, "answered", 0.3, False),
        _row(False, "answered", 0.5, False),
        _row(False, "abstained", 0.9, True),  # abstained for another reason: abstains at every threshold
    ]
    points = {p.threshold: p for p in sweep(rows, default_thresholds())}
    assert (points[0.0].precision, points[0.0].recall) == (1.0, pytest.approx(1 / 3))
    assert (points[0.4].precision, points[0.4].recall) == (1.0, pytest.approx(2 / 3))
    assert points[0.55].f1 == 1.0 and points[0.55].overall_accuracy == 1.0
    assert points[0.7].precision == pytest.approx(3 / 4)  # now abstains on an answerable one
    assert points[1.0].answered_share == 0.0
    best = best_point(list(points.values()))
    assert best is not None and best.threshold == 0.51


def test_sweep_without_unanswerable_questions_has_no_best_threshold() -> None:
    assert best_point(sweep([_row(True, "answered", 0.8, True)])) is None


def test_best_threshold_is_max_accuracy_not_the_degenerate_max_f1() -> None:
    rows = [_row(True, "answered", 0.9, True) for _ in range(3)]
    rows += [
        _row(False, "answered", 0.5, False),
        _row(False, "answered", 0.95, False),
        _row(False, "answered", 0.95, False),
    ]
    points = sweep(rows)
    max_f1 = max(points, key=lambda p: p.f1 or 0.0)
    assert max_f1.answered_share == 0.0  # abstaining on everything has the best abstention F1 ...
    best = best_point(points)
    assert best is not None and best.threshold == 0.51 and best.overall_accuracy == pytest.approx(4 / 6)
