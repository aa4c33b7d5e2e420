"""Synthetic cohorts for research and benchmarks."""
