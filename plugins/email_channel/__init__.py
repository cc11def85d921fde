"""Email delivery channel (work in progress)."""
