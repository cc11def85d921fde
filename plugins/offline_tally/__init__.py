"""Offline tally: letters written on paper by groups (work in progress)."""
