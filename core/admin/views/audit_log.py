"""Admin pages: audit_log (being built)."""
