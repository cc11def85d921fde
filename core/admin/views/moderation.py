"""Admin pages: moderation (being built)."""
