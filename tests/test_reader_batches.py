"""Windows batched by length: no batch pads a window by more than MAX_PADDING (no weights needed)."""

from __future__ import annotations

from qa.reader.inference import MAX_PADDING, length_batches


def test_length_batches_cover_every_window_once_longest_first_with_little_padding() -> None:
    lengths = [139, 169, 100, 168, 40, 165, 101, 169, 99, 150]
    batches = length_batches(lengths, batch_size=2)
    assert sorted(w for batch in batches for w in batch) == list(range(len(lengths)))
    assert all(1 <= len(batch) <= 2 for batch in batches)
    firsts = [lengths[batch[0]] for batch in batches]
    assert firsts == sorted(firsts, reverse=True)
    for batch in batches:
        longest = lengths[batch[0]]
        assert all(lengths[w] >= (1 - MAX_PADDING) * longest for w in batch)
    assert batches[0] == [1, 7]  # the two 169-token windows together


def test_length_batches_of_nothing_and_of_equal_windows() -> None:
    assert length_batches([], batch_size=32) == []
    assert length_batches([50] * 5, batch_size=32) == [[0, 1, 2, 3, 4]]
    assert length_batches([50] * 5, batch_size=2) == [[0, 1], [2, 3], [4]]
