"""``copay-gateway bench``: throughput and latency of the real server (see run.py)."""
