"""gunicorn settings for `make run` (and for the benchmark's portal side)."""
import os

bind = os.environ.get("ECRIRE_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("ECRIRE_WORKERS", "2"))
worker_class = "sync"
accesslog = "-"
errorlog = "-"
timeout = 30
