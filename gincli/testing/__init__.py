"""Synthetic film damage for tests and benchmarks (never used by the command)."""
