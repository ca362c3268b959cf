"""The reader training script's shared normalisation across passages (scripts/train_reader.py --passages)."""

from __future__ import annotations

import math
import random

import pytest

from scripts.reader_data import _passage_groups
from scripts.train_reader import group_batches_for_epoch, shared_norm_loss

torch = pytest.importorskip("torch")


def _question(qid: str, context: str, text: str | None, article: int = 0) -> dict:
    start = None if text is None else context.index(text)
    return dict(id=qid, question=f"{qid}?", context=context, start=start, text=text, article=article)


def test_passage_groups_pair_a_question_with_other_paragraphs_that_lack_its_answer():
    siblings = {0: ["Baykar makes the TB2.", "Kyiv is the capital.", "The TB2 is built by BAYKAR.", "Shells."]}
    answerable = _question("q1", siblings[0][0], "Baykar")
    unanswerable = _question("q2", siblings[0][1], None)

    extra = _passage_groups([answerable, unanswerable], siblings, 5, random.Random(0))

    assert answerable["group"] == "q1"
    assert "group" not in unanswerable
    assert sorted(e["context"] for e in extra) == ["Kyiv is the capital.", "Shells."]
    assert all(e["group"] == "q1" and e["shared_only"] and e["start"] is None for e in extra)


def test_passage_groups_take_at_most_the_number_asked():
    siblings = {0: [f"Paragraph {i}." for i in range(10)] + ["Baykar makes the TB2."]}
    extra = _passage_groups([_question("q1", siblings[0][-1], "Baykar")], siblings, 3, random.Random(0))
    assert len(extra) == 3


def _feature(group: str | None) -> dict:
    return {"group": group, "input_ids": [0]}


def test_group_batches_keep_each_question_with_its_passages():
    feats = [_feature(g) for g in ["a", "a", "b", None, "a", "c", "c", None, "b"]]

    for epoch in range(3):
        batches = group_batches_for_epoch(feats, 2, seed=1, epoch=epoch)
        assert sorted(i for b in batches for i in b) == list(range(len(feats)))
        for group in ("a", "b", "c"):
            holding = [b for b in batches if any(feats[i]["group"] == group for i in b)]
            assert len(holding) == 1
        # 3 groups + 2 lone windows, two per batch: the step count does not change between epochs
        assert len(batches) == 3


def _window(group: str | None, start: int, end: int) -> dict:
    return {"group": group, "start": start, "end": end, "null": start == 0}


def test_shared_norm_loss_is_the_gold_tokens_share_of_every_passages_context():
    # two windows of one question; token 0 is [CLS], left out of the shared softmax by the mask
    start = torch.tensor([[9.0, 1.0, 2.0], [9.0, 3.0, 0.0]], requires_grad=True)
    end = torch.tensor([[9.0, 0.0, 1.0], [9.0, 0.0, 0.0]], requires_grad=True)
    mask = torch.tensor([[False, True, True], [False, True, True]])
    fb = [_window("q", 2, 2), _window("q", 0, 0)]

    loss = shared_norm_loss(start, end, fb, mask)

    start_part = math.log(math.exp(1) + math.exp(2) + math.exp(3) + math.exp(0)) - 2
    end_part = math.log(math.exp(0) + math.exp(1) + 1 + 1) - 1
    assert loss.item() == pytest.approx((start_part + end_part) / 2, rel=1e-6)
    loss.backward()
    # the other passage's best token is pushed down, the gold token up, [CLS] untouched
    assert start.grad[1, 1] > 0
    assert start.grad[0, 2] < 0
    assert start.grad[0, 0] == 0


def test_shared_norm_loss_skips_groups_without_an_answer_window_or_other_passages():
    logits = torch.zeros((3, 4), requires_grad=True)
    mask = torch.ones((3, 4), dtype=torch.bool)
    fb = [_window("lonely", 2, 3), _window("no-gold", 0, 0), _window("no-gold", 0, 0)]
    loss = shared_norm_loss(logits, logits, fb, mask)
    assert loss.item() == 0.0
    assert shared_norm_loss(logits, logits, [_window(None, 1, 1)] * 3, mask).item() == 0.0


def test_names_are_capitalised_runs_the_article_never_writes_in_lower_case_and_numbers():
    from scripts.reader_data import _names

    common = frozenset(["during", "the", "war"])
    text = "During the war, Rustem Umerov met Recep Tayyip Erdogan in 2024. Kyiv's allies seek 800,000 shells."
    assert _names(text, common) == ["Rustem Umerov", "Recep Tayyip Erdogan", "2024", "Kyiv", "800,000"]


def test_swapped_negatives_change_one_shared_name_for_one_the_paragraph_never_mentions():
    from scripts.reader_data import _swapped_negatives

    paragraph = "In 2023 Baykar opened a factory near Kyiv to build the drone."
    siblings = {0: [paragraph, "Aselsan builds radars in Ankara since 1975.", "the factory and the drone"]}
    question = dict(_question("q1", paragraph, "Baykar"), source="test")
    question["question"] = "What did Baykar open near Kyiv in 2023?"

    (swapped,) = _swapped_negatives([question], siblings, 1.0, random.Random(0))

    assert swapped["start"] is None and swapped["context"] == paragraph
    assert swapped["question"] in {
        "What did Baykar open near Aselsan in 2023?",
        "What did Baykar open near Ankara in 2023?",
        "What did Baykar open near Kyiv in 1975?",
    }
