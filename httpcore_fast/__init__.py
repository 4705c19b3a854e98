"""httpcore_fast: httpcore 1.0.x's API with a Cython hot path (being assembled)."""
