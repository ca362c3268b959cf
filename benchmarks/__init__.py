"""Benchmarks, run from the repository root as modules (``python -m benchmarks.NAME``).

Each prints ratios against a floor measured in the same run; none is a timed test.
"""
