#!/usr/bin/env python
"""Latency of the extractive reader: one question against its top 5 chunks.

    HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.bench_reader \
        [--squad2 /work/shared/data/squad-v2.0-dev.json] [--threads 2 (default QA_THREADS)] [--iters 50] [--quantize]

Chunks come from the held-out SQuAD 2.0 articles when ``--squad2`` is given (consecutive
paragraphs cut at a word boundary to ``--chunk-tokens`` word pieces, by default the product's
``chunk_max_tokens``, so each is as long as the longest chunk the index holds), otherwise from
synthetic text.
Reported: p50/p95/mean of ``ExtractiveReader.read`` (tokenise + forward + span decoding), and in
the same run (calls alternate) a floor: the bare encoder + head forward pass on the identical padded
batch of windows.  The 1-minute load average is printed: on a shared machine compare the two rows,
not runs made at different times.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from pathlib import Path

from qa.evaluation.importers import read_squad


def make_chunks(tokenizer, squad2: str | None, n: int, tokens: int, seed: int) -> tuple[str, list[str]]:
    rng = random.Random(seed)
    if squad2:
        articles = [a for a in read_squad(Path(squad2)) if a.title in {"Rhine", "Warsaw", "Force", "Islamism"}]
        paras = [p for a in articles for p in a.paragraphs]
        start = rng.randrange(0, len(paras) - 3 * n)
        text = " ".join(p.context for p in paras[start : start + 3 * n])
        q = next(q.question for q in paras[start].questions if not q.impossible)
    else:
        words = [
            "the",
            "river",
            "flows",
            "through",
            "several",
            "countries",
            "before",
            "it",
            "reaches",
            "the",
            "sea",
            "and",
            "its",
            "basin",
            "covers",
            "a",
            "large",
            "area",
            "of",
            "central",
            "europe",
            "where",
            "many",
            "cities",
            "were",
            "founded",
            "in",
            "roman",
            "times",
        ]
        text = " ".join(rng.choice(words) for _ in range(tokens * n * 2))
        q = "Where does the river flow?"
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    offs = enc["offset_mapping"]
    chunks = []
    pos = 0
    for _ in range(n):
        end_tok = min(len(offs), pos + tokens)
        a = offs[pos][0]
        b = offs[end_tok - 1][1]
        chunks.append(text[a:b])
        pos = end_tok
    return q, chunks


def pct(xs, p):
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100
    f = int(k)
    c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--squad2", default=None)
    ap.add_argument("--weights", default=None)
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: QA_THREADS; 0 = every core)")
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--chunks", type=int, default=5)
    ap.add_argument(
        "--chunk-tokens", type=int, default=None, help="word pieces per chunk (default: Settings().chunk_max_tokens)"
    )
    ap.add_argument("--max-len", type=int, default=None, help="override the reader's window length")
    ap.add_argument(
        "--quantize",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="dynamic int8 quantisation of the Linear layers (default: as reader_config.json says)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    import torch

    from qa.config import Settings
    from qa.onnx_export import configure_threads
    from qa.reader.inference import ExtractiveReader
    from qa.reader.model import encode_windows, pad_batch, window_features

    if args.chunk_tokens is None:
        args.chunk_tokens = Settings(_env_file=None).chunk_max_tokens  # type: ignore[call-arg]

    threads = configure_threads(Settings().threads if args.threads is None else args.threads)
    reader = ExtractiveReader.load(args.weights, quantize=args.quantize, max_len=args.max_len or None)
    q, chunks = make_chunks(reader.tokenizer, args.squad2, args.chunks, args.chunk_tokens, args.seed)

    enc = encode_windows(reader.tokenizer, [q] * len(chunks), chunks, max_len=reader.max_len, stride=reader.stride)
    ids, am, tt = pad_batch(window_features(enc))

    def floor():
        with torch.inference_mode():
            reader.model(ids, am, tt)

    def full():
        reader.read(q, chunks)

    # floor and full call alternate, so both see the same load on a shared machine
    for _ in range(args.warmup):
        floor()
        full()
    times: dict[str, list[float]] = {"floor_forward": [], "reader_read": []}
    for _ in range(args.iters):
        for name, fn in (("floor_forward", floor), ("reader_read", full)):
            t = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t) * 1000)
    res = {
        name: {"p50_ms": pct(ts, 50), "p95_ms": pct(ts, 95), "mean_ms": statistics.mean(ts)}
        for name, ts in times.items()
    }
    preds = reader.read(q, chunks)
    info = {
        "threads": threads,
        "quantized": reader.quantized,
        "chunks": len(chunks),
        "chunk_tokens": [len(reader.tokenizer(c, add_special_tokens=False)["input_ids"]) for c in chunks],
        "windows": int(ids.shape[0]),
        "window_len": int(ids.shape[1]),
        "max_len": reader.max_len,
        "source": "squad2 held-out" if args.squad2 else "synthetic",
        "question": q,
        "best": max(preds, key=lambda p: p.score).text,
        "loadavg_1min": os.getloadavg()[0],
    }
    print(json.dumps(info))
    print(f"{'':<16}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}")
    for k, v in res.items():
        print(f"{k:<16}{v['p50_ms']:>9.1f}{v['p95_ms']:>9.1f}{v['mean_ms']:>9.1f}")
    ratio = res["reader_read"]["p50_ms"] / res["floor_forward"]["p50_ms"]
    print(f"reader_read / floor_forward p50: {ratio:.2f}x (tokenising and span decoding on top of the forward pass)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"info": info, "latency": res}, indent=2) + "\n")


if __name__ == "__main__":
    main()
