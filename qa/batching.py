"""Longest-first batches: the one way the models are fed many texts (ingest's embedder, the reader).

Padding is compute thrown away, so items are sorted longest first and each batch holds items of
about one length; callers put the results back in their own order.
"""

from __future__ import annotations

from collections.abc import Sequence


def longest_first_batches(lengths: Sequence[int], batch_size: int, *, max_padding: float = 1.0) -> list[list[int]]:
    """Item indices in batches of at most ``batch_size``, longest first. An item joins a batch only if
    it is at most ``max_padding`` (a share of the batch's longest) shorter; 1.0 never splits on length."""
    batches: list[list[int]] = []
    for item in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        current = batches[-1] if batches else None
        if current is None or len(current) >= batch_size or lengths[item] < (1 - max_padding) * lengths[current[0]]:
            batches.append([item])
        else:
            current.append(item)
    return batches
