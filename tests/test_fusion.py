import math
import time

import pytest

from qa.retrieval.fusion import LEXICAL_DEPTH, FusionConfig, contains_any_token, fuse, identifier_tokens
from qa.retrieval.lexical import best_sentence_coverage

DENSE = [(0, 0.9), (1, 0.7), (2, 0.5)]
KEYWORD = [(2, 10.0), (3, 4.0), (0, 2.0)]


def approx(pairs: list[tuple[int, float]]) -> list[tuple[int, object]]:
    return [(position, pytest.approx(score)) for position, score in pairs]


def test_weighted_fusion_adds_min_max_normalised_scores() -> None:
    # dense: 0 -> 1, 1 -> 0.5, 2 -> 0; keyword: 2 -> 1, 3 -> 0.25, 0 -> 0
    fused = fuse(DENSE, KEYWORD, FusionConfig(dense_weight=0.5))
    assert [p for p, _ in fused] == [0, 2, 1, 3]  # 0 and 2 tie at 0.5: position order
    assert [s for _, s in fused] == pytest.approx([0.5, 0.5, 0.25, 0.125])
    fused = fuse(DENSE, KEYWORD, FusionConfig(dense_weight=0.75))
    assert fused == approx([(0, 0.75), (1, 0.375), (2, 0.25), (3, 0.0625)])


def test_weight_one_is_the_dense_ranking_and_zero_the_keyword_one() -> None:
    assert [p for p, _ in fuse(DENSE, KEYWORD, FusionConfig(dense_weight=1.0))][:3] == [0, 1, 2]
    assert [p for p, _ in fuse(DENSE, KEYWORD, FusionConfig(dense_weight=0.0))][:3] == [2, 3, 0]


def test_rrf_is_the_earlier_reciprocal_rank_fusion() -> None:
    fused = fuse(DENSE, KEYWORD, FusionConfig(method="rrf", rrf_k=60))
    assert fused == approx([(0, 1 / 61 + 1 / 63), (2, 1 / 63 + 1 / 61), (1, 1 / 62), (3, 1 / 62)])


def test_empty_and_single_candidate_rankings() -> None:
    assert fuse([], [], FusionConfig()) == []
    assert fuse([(5, 0.3)], [], FusionConfig(dense_weight=0.6)) == approx([(5, 0.6)])


def test_identifier_bonus_lifts_the_chunk_holding_the_code() -> None:
    texts = [
        "Error code E7 indicates a failed UV-C lamp; the E7 light flashes.",
        "Error code E4 indicates that the incoming water pressure is too low.",
        "Descale the purifier every month.",
    ]
    dense = [(0, 0.80), (1, 0.78), (2, 0.50)]
    keyword = [(0, 3.0), (1, 2.9), (2, 1.0)]
    query = "What does error code E4 mean?"
    plain = fuse(dense, keyword, FusionConfig(dense_weight=0.5), query=query, text_of=texts.__getitem__)
    assert plain == approx([(0, 1.0), (1, 0.5 * 0.28 / 0.30 + 0.5 * 0.95), (2, 0.0)])
    config = FusionConfig(dense_weight=0.5, identifier_bonus=0.2)
    lifted = fuse(dense, keyword, config, query=query, text_of=texts.__getitem__)
    assert lifted == approx([(1, 0.5 * 0.28 / 0.30 + 0.5 * 0.95 + 0.2), (0, 1.0), (2, 0.0)])
    # No identifier in the question: the bonus changes nothing.
    assert fuse(dense, keyword, config, query="What does the error mean?", text_of=texts.__getitem__) == plain


def test_identifier_tokens() -> None:
    text = "Is E4 or CF-300 in v2.3.1, since 1976? Ticket INC-20417, e.g. 3,000 litres at 2.3.1."
    assert identifier_tokens(text) == {"e4", "cf-300", "v2.3.1", "inc-20417", "2.3.1"}
    assert identifier_tokens("When was the company founded in 1920?") == frozenset()
    assert identifier_tokens("") == frozenset()


def test_contains_any_token_matches_whole_tokens_only() -> None:
    assert contains_any_token("The light shows (E4).", frozenset({"e4"}))
    assert not contains_any_token("Codes E45 and XE4 differ.", frozenset({"e4"}))
    assert not contains_any_token("Upgrade to v2.3.10 now.", frozenset({"v2.3.1"}))
    assert not contains_any_token("Released as v2.3.1 in May.", frozenset({"v2.3"}))
    assert contains_any_token("Released as v2.3.1 in May.", frozenset({"v2.3", "v2.3.1"}))


def test_identifier_scan_is_linear() -> None:
    # A million joiner-separated characters: one pass, no backtracking.
    text = "a-" * 500_000 + "1"
    assert identifier_tokens(text) == {text.lower()}


def test_fusion_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match=r"dense_weight must be between 0 and 1, got 1\.5"):
        FusionConfig(dense_weight=1.5)
    with pytest.raises(ValueError, match="identifier_bonus must be 0 or more"):
        FusionConfig(identifier_bonus=-0.1)
    with pytest.raises(ValueError, match="lexical_weight must be 0 or more"):
        FusionConfig(lexical_weight=-0.1)


SCATTERED = "Baykar builds drones. The company is privately owned. Shells are made elsewhere."
TOGETHER = "The privately owned Baykar company manufactures the Bayraktar TB2 drone. It exports them."
UNRELATED = "Zelensky flew to Istanbul on Friday."


def test_the_best_sentence_holding_the_question_words_together_covers_most() -> None:
    question = "Which privately owned company manufactures the TB2 drone?"
    scattered, together, unrelated = best_sentence_coverage(question, [SCATTERED, TOGETHER, UNRELATED])
    assert together == pytest.approx(1.0)  # every question word in one sentence
    assert 0.0 < scattered < together  # "privately owned" and "drone(s)" sit in different sentences
    assert unrelated == 0.0
    # Words weigh by their rarity among the candidates: "drone" (in two of three) counts less than "TB2" (one).
    n = 3
    idf = {word: math.log((n + 1) / (0.5 + count)) for word, count in {"drone": 2, "tb2": 1}.items()}
    assert best_sentence_coverage("TB2 drone?", [SCATTERED, TOGETHER, UNRELATED])[0] == pytest.approx(
        idf["drone"] / (idf["drone"] + idf["tb2"])
    )
    # A sentence is read under its heading path: "Premium" above "Storage is five terabytes".
    sections = ["Storage is five terabytes.", "The plan for teams. Storage is one terabyte."]
    under_premium, under_basic = best_sentence_coverage(
        "premium storage", sections, ["Plans > Premium", "Plans > Basic"]
    )
    assert under_premium == pytest.approx(1.0) and under_basic < under_premium
    assert best_sentence_coverage("Which of them?", [SCATTERED]) == [0.0]  # no content word
    assert best_sentence_coverage("drone", []) == []


def test_lexical_weight_reorders_the_top_candidates_by_their_best_sentence() -> None:
    texts = [SCATTERED, TOGETHER, UNRELATED]
    dense = [(0, 0.80), (1, 0.78), (2, 0.50)]
    keyword = [(0, 3.0), (1, 2.9), (2, 1.0)]
    query = "Which privately owned company manufactures the TB2 drone?"
    plain = fuse(dense, keyword, FusionConfig(dense_weight=0.5), query=query, text_of=texts.__getitem__)
    assert [p for p, _ in plain] == [0, 1, 2]
    config = FusionConfig(dense_weight=0.5, lexical_weight=0.4)
    lifted = fuse(dense, keyword, config, query=query, text_of=texts.__getitem__)
    coverage = best_sentence_coverage(query, [texts[p] for p, _ in plain])
    assert lifted == approx(
        sorted(((p, s + 0.4 * c) for (p, s), c in zip(plain, coverage, strict=True)), key=lambda item: -item[1])
    )
    assert [p for p, _ in lifted] == [1, 0, 2]
    # Only the top LEXICAL_DEPTH are re-scored; the rest keep their place below them.
    many = [(i, 1.0 - i / 100) for i in range(LEXICAL_DEPTH + 5)]
    deep = fuse(many, [], config, query=query, text_of=lambda p: TOGETHER if p == LEXICAL_DEPTH + 2 else UNRELATED)
    assert [p for p, _ in deep][LEXICAL_DEPTH:] == list(range(LEXICAL_DEPTH, LEXICAL_DEPTH + 5))


def test_coverage_is_linear_on_long_input() -> None:
    def timed(n: int) -> float:
        text = "The drone company. " * n
        started = time.perf_counter()
        best_sentence_coverage("drone company " * 50, [text, text[: len(text) // 2]])
        return time.perf_counter() - started

    small, large = timed(1_000), timed(20_000)
    assert large < 60 * max(small, 1e-4)
