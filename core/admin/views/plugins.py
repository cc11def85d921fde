"""Admin pages: plugins (being built)."""
