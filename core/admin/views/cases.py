"""Admin pages: cases (being built)."""
