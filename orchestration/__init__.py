"""Orchestration: the inter-agent protocol, the supervisor graph, the planner, the conversation store."""
