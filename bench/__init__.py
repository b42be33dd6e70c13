"""Benchmarks of the Ashby sync; run `python bench/sync_bench.py --help`."""
