"""Maintenance commands, run from the repository root as modules (``python -m scripts.NAME``).

train_reader.py        fine-tune the extractive reader (reader_data.py: its examples and features)
eval_reader.py         the reader (or an answerer) on the held-out SQuAD 2.0 articles; --write-threshold
calibrate_answerer.py  fit the reader answerer's span model and threshold; --write
make_ood_set.py        the COVID-QA papers no training run saw (an out-of-domain test set)
requirements_of.py     pyproject requirements of some extras (setup_venv.sh, the Dockerfile)
"""
