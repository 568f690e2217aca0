"""The processes: thin ASGI apps, one per process (`python -m servers NAME`)."""
