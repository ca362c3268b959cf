#!/usr/bin/env python
"""Fine-tune the packaged all-MiniLM-L6-v2 on question -> passage pairs from reader-train (issue 30).

    cd /work/i30 && export PYTHONPATH=$PWD HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
    nohup nice -n 19 .venv/bin/python -m scripts.train_embedder \
        --data /work/shared/data/reader-train --out /work/scratch/i30/embedder-q --mode query \
        --unit-fraction 0.25 --epochs 2 --checkpoint-every 20 --model-cache /work/scratch/i30/models &

Loss: MultipleNegativesRankingLoss (in-batch negatives, scale 20, as sentence-transformers) with
hard negatives per question: BM25's best non-answer passage of the same source and another
paragraph of the same article (scripts/embedder_data.py). A passage equal to this question's
positive elsewhere in the batch is masked, not counted as a negative. Passages are embedded as
the product embeds a chunk: "title\ntext".

``--mode query`` (default) tunes a question encoder only: every passage is embedded once by the
packaged model exactly as the product's index holds it (int8 ONNX, cached in OUT), and only the
questions go through the model being trained. A step then costs a forward and backward pass over
64 short questions instead of 3x64 passages, which is what two shared cores can afford; the result
ships as ``QA_EMBEDDING_QUERY_MODEL`` and leaves every index valid. ``--mode both`` tunes one model
for passages and questions (an index rebuild when shipped; about 10 CPU-seconds a step here).

Held out before training (``scripts/embedder_split.json``, written with ``--write-split``): all of
COVID-QA (out-of-domain), and per other source a seeded 10% of its articles for evaluation and 5% for
fitting the fusion weights; squad-v2.0-dev.json is refused. Training is resumable: every
``--checkpoint-every`` steps the model (a sentence-transformers folder) and the optimiser state go
to ``OUT/checkpoints/step-NNNNNN``; a rerun with the same arguments continues from the last one
(the example order is a function of ``--seed``). The loss goes to ``OUT/train.log``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

from scripts.embedder_data import SPLIT_FILE, read_split, refuse_dev, training_examples, units_in, write_split


def log(out: Path, line: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    with (out / "train.log").open("a", encoding="utf-8") as f:
        f.write(f"{stamp} {line}\n")
    print(f"{stamp} {line}", flush=True)


def latest_checkpoint(out: Path) -> Path | None:
    done = sorted(p for p in (out / "checkpoints").glob("step-*") if (p / "trainer_state.pt").is_file())
    return done[-1] if done else None


def fixed_passage_vectors(texts: list[str], args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The packaged model's vectors of ``texts`` as the product computes them (int8 ONNX), cached in OUT."""
    import hashlib

    import numpy as np

    from qa.config import BUNDLED_MODEL
    from qa.embedding import OnnxEmbedder
    from qa.onnx_export import configure_threads

    key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
    cached = args.out / f"passages-{key}.npy"
    if cached.is_file():
        return np.load(cached)
    configure_threads(args.threads)
    cache_dir = args.model_cache or args.out / "onnx"
    embedder = OnnxEmbedder(BUNDLED_MODEL, cache_dir=cache_dir, quantized=True)
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    began = time.perf_counter()
    for start in range(0, len(texts), 512):
        vectors[start : start + 512] = embedder.embed_documents(texts[start : start + 512])
        log(args.out, f"passage vectors {start + 512}/{len(texts)} ({time.perf_counter() - began:.0f}s)")
    np.save(cached, vectors)
    return vectors


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="reader-train folder (SQuAD-format JSON files)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--split", type=Path, default=SPLIT_FILE)
    ap.add_argument("--write-split", action="store_true", help="draw and write the split file, then train")
    ap.add_argument("--model", default=None, help="starting model folder (default: the packaged MiniLM)")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--batch-size", type=int, default=None, help="default 64 (query mode) or 32")
    ap.add_argument("--negatives", type=int, default=None, choices=[0, 1, 2], help="hard negatives per question")
    ap.add_argument("--max-examples", type=int, default=0, help="train on the first N shuffled examples (0: all)")
    ap.add_argument(
        "--unit-fraction",
        type=float,
        default=1.0,
        help="train on a seeded fraction of the training articles, all their questions (fewer passages to embed)",
    )
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--warmup", type=int, default=50, help="warm-up steps")
    ap.add_argument("--scale", type=float, default=20.0)
    ap.add_argument("--passage-len", type=int, default=160, help="max tokens of a passage")
    ap.add_argument("--question-len", type=int, default=48, help="max tokens of a question")
    ap.add_argument("--checkpoint-every", type=int, default=25)
    ap.add_argument("--keep-optimizer", type=int, default=1, help="checkpoints that keep their optimiser state")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--freeze-layers", type=int, default=None, help="freeze the word embeddings and the first N layers")
    ap.add_argument(
        "--mode",
        default="query",
        choices=["query", "both"],
        help="query: tune the question encoder against fixed passage vectors of the packaged model; both: one model",
    )
    ap.add_argument("--model-cache", type=Path, help="ONNX export folder for the passage vectors (query mode)")
    args = ap.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import random

    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    from qa.config import BUNDLED_MODEL
    from qa.embedding import resolve_model_path

    torch.set_num_threads(args.threads)
    query_mode = args.mode == "query"
    if args.batch_size is None:
        args.batch_size = 64 if query_mode else 32
    if args.negatives is None:
        args.negatives = 2 if query_mode else 1
    if args.freeze_layers is None:
        args.freeze_layers = 0 if query_mode else 3
    args.out.mkdir(parents=True, exist_ok=True)
    for path in args.data.glob("*.json"):
        refuse_dev(path)
    split = write_split(args.data, args.seed, 0.10, 0.05, args.split) if args.write_split else read_split(args.split)
    units = units_in(args.data, split, "train")
    if args.unit_fraction < 1.0:
        chosen = set(random.Random(args.seed).sample(range(len(units)), round(len(units) * args.unit_fraction)))
        units = [u for i, u in enumerate(units) if i in chosen]
    t0 = time.perf_counter()
    examples = training_examples(units, args.seed)
    if args.max_examples:
        examples = examples[: args.max_examples]
    counts: dict[str, int] = {}
    for e in examples:
        counts[e["source"]] = counts.get(e["source"], 0) + 1
    log(args.out, f"examples {len(examples)} from {len(units)} units in {time.perf_counter() - t0:.0f}s: {counts}")
    run = {"args": {k: str(v) for k, v in vars(args).items()}, "counts": counts}
    (args.out / "run.json").write_text(json.dumps(run, indent=1))

    passage_index: dict[str, int] = {}
    passage_vectors = None
    if query_mode:
        for e in examples:
            for text in (e["positive"], *e["negatives"]):
                passage_index.setdefault(text, len(passage_index))
        passage_vectors = torch.from_numpy(fixed_passage_vectors(list(passage_index), args))

    steps_per_epoch = len(examples) // args.batch_size
    total = steps_per_epoch * args.epochs
    resume = latest_checkpoint(args.out)
    start_path = str(resume) if resume else resolve_model_path(args.model or BUNDLED_MODEL)
    model = SentenceTransformer(start_path, device="cpu", local_files_only=True)
    model.max_seq_length = args.passage_len
    tok = model.tokenizer
    if args.freeze_layers >= 0:  # on two shared cores, backward through the lower layers costs more than it gives
        bert = model[0].auto_model
        frozen = [bert.embeddings, *bert.encoder.layer[: args.freeze_layers]]
        for module in frozen:
            for parameter in module.parameters():
                parameter.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min(1.0, (s + 1) / max(1, args.warmup)) * max(0.0, 1 - s / max(1, total))
    )
    step = 0
    if resume:
        state = torch.load(resume / "trainer_state.pt", weights_only=False)
        optim.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        step = state["step"]
        log(args.out, f"resumed from {resume} at step {step}")
    else:
        log(args.out, f"start from {start_path}: {total} steps ({args.epochs} epoch(s) of {steps_per_epoch})")

    def encode(texts: list[str], max_len: int) -> torch.Tensor:
        feats = tok(texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
        return model(dict(feats))["sentence_embedding"]

    model.train()
    losses: list[float] = []
    began = time.perf_counter()
    while step < total:
        epoch, k = divmod(step, steps_per_epoch)
        order = list(range(len(examples)))
        random.Random(args.seed * 1000 + epoch).shuffle(order)
        batch = [examples[i] for i in order[k * args.batch_size : (k + 1) * args.batch_size]]
        neg_rng = random.Random(args.seed * 7919 + step)
        passages = [e["positive"] for e in batch]
        for e in batch:
            negs = e["negatives"]
            if args.negatives == 1 and negs:
                passages.append(neg_rng.choice(negs))
            elif args.negatives == 2:
                passages.extend(negs)
        q = encode([e["question"] for e in batch], args.question_len)
        if passage_vectors is not None:
            p = passage_vectors[[passage_index[text] for text in passages]]
        else:
            p = encode(passages, args.passage_len)
        scores = args.scale * q @ p.T
        # A passage identical to this question's positive elsewhere in the batch is not a negative.
        same = torch.tensor(
            [[j != i and passages[j] == batch[i]["positive"] for j in range(len(passages))] for i in range(len(batch))]
        )
        scores = scores.masked_fill(same, float("-inf"))
        loss = torch.nn.functional.cross_entropy(scores, torch.arange(len(batch)))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optim.step()
        sched.step()
        optim.zero_grad(set_to_none=True)
        step += 1
        losses.append(loss.item())
        if step % 10 == 0 or step == total:
            rate = (time.perf_counter() - began) / len(losses)
            log(
                args.out,
                f"step {step}/{total} loss {np.mean(losses[-10:]):.4f} lr {sched.get_last_lr()[0]:.2e} "
                f"{rate:.1f}s/step",
            )
        if step % args.checkpoint_every == 0 or step == total:
            target = args.out / "checkpoints" / f"step-{step:06d}"
            tmp = target.with_name(target.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            model.save(str(tmp))
            state = {"optimizer": optim.state_dict(), "scheduler": sched.state_dict(), "step": step}
            torch.save(state, tmp / "trainer_state.pt")
            shutil.rmtree(target, ignore_errors=True)
            tmp.rename(target)
            kept = sorted(p for p in (args.out / "checkpoints").glob("step-*") if (p / "trainer_state.pt").is_file())
            for old in kept[: -args.keep_optimizer]:
                (old / "trainer_state.pt").unlink()
            log(args.out, f"checkpoint {target} (mean loss since start {np.mean(losses):.4f})")
    log(args.out, "done")


if __name__ == "__main__":
    main()
