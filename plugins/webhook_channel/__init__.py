"""Webhook delivery channel (work in progress)."""
