"""Admin pages: accounts (being built)."""
