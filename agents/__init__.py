"""The agents: one pattern (`agents.base.Agent`), three agents."""
