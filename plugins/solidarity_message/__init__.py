"""Solidarity message to the person at risk, moderated (work in progress)."""
