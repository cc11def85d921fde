"""Share the case on social networks (work in progress)."""
