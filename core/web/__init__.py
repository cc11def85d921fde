"""Supporter-facing web layer: blueprints, templates, static files."""
