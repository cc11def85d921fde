"""Admin pages: exports (being built)."""
