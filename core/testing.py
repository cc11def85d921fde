"""pytest fixtures for plugin authors (in progress)."""
