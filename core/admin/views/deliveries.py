"""Admin pages: deliveries (being built)."""
