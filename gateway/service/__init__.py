"""Use cases: each takes validated domain input and a unit of work."""
