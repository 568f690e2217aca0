"""The embedded runtime: what `make up` starts on this machine (Redis, the local model, the servers)."""
