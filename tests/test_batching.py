"""Longest-first batches: every item once, none padded by more than its bound (no weights needed)."""

from __future__ import annotations

from qa.batching import longest_first_batches
from qa.reader.inference import MAX_PADDING


def test_reader_batches_cover_every_window_once_longest_first_with_little_padding() -> None:
    lengths = [139, 169, 100, 168, 40, 165, 101, 169, 99, 150]
    batches = longest_first_batches(lengths, 2, max_padding=MAX_PADDING)
    assert sorted(w for batch in batches for w in batch) == list(range(len(lengths)))
    assert all(1 <= len(batch) <= 2 for batch in batches)
    firsts = [lengths[batch[0]] for batch in batches]
    assert firsts == sorted(firsts, reverse=True)
    for batch in batches:
        longest = lengths[batch[0]]
        assert all(lengths[w] >= (1 - MAX_PADDING) * longest for w in batch)
    assert batches[0] == [1, 7]  # the two 169-token windows together


def test_batches_of_nothing_of_equal_items_and_without_a_padding_bound() -> None:
    assert longest_first_batches([], 32) == []
    assert longest_first_batches([50] * 5, 32, max_padding=MAX_PADDING) == [[0, 1, 2, 3, 4]]
    assert longest_first_batches([50] * 5, 2, max_padding=MAX_PADDING) == [[0, 1], [2, 3], [4]]
    # ingest's embedder: plain batches of the sorted items, whatever their lengths
    assert longest_first_batches([10, 300, 20, 200, 30], 2) == [[1, 3], [4, 2], [0]]
