"""Benchmarks of nnscratch against PyTorch; run them with ``make bench``."""
