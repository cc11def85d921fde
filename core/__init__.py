"""Écrire core: the hook API, sections as tenants, storage and the web layer.

The core knows no section, country or concrete action: those are plugins.
Plugins import from :mod:`core.toolkit` only.
"""
