"""The gateway: the OpenAI-compatible front door, with conversations in Redis.

app.py wires it; routes.py maps paths to handlers; exchange.py runs one request through the team;
stream.py builds the stream's chunks; guard.py holds auth and limits; wire.py the OpenAI types;
errors.py the public error hierarchy; turns.py what a turn stores; embeddings.py /v1/embeddings.
"""

from servers.gateway.app import create_app

__all__ = ["create_app"]
