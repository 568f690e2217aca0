"""What Chorus measures, in Prometheus terms: every server counts its requests, their latency and
its open streams; the gateway adds tokens and rate-limit refusals; the supervisor each agent's
calls, failures, tokens and circuit. Labels are bounded: routes are templates, agents are named.

One process serves one server, so prometheus-client's default registry is the process's metrics.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

disable_created_metrics()  # type: ignore[no-untyped-call]  # the *_created series only double what a scrape shows

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

REQUESTS = Counter("chorus_requests", "HTTP requests answered", ["process", "method", "route", "status"])
LATENCY = Histogram(
    "chorus_request_duration_seconds",
    "Time from a request's arrival to its response's end",
    ["process", "route"],
    buckets=LATENCY_BUCKETS,
)
ACTIVE_STREAMS = Gauge("chorus_active_streams", "Streaming responses being sent", ["process"])
IN_FLIGHT = Gauge("chorus_requests_in_flight", "Requests being answered", ["process"])
TOKENS = Counter("chorus_tokens", "Tokens the gateway counted for clients", ["kind"])
RATE_LIMITED = Counter("chorus_rate_limited", "Requests refused with HTTP 429", ["limit"])
AGENT_CALLS = Counter("chorus_agent_calls", "The supervisor's calls of each agent", ["agent", "status"])
AGENT_LATENCY = Histogram(
    "chorus_agent_call_duration_seconds",
    "Time of one agent call, as the supervisor saw it",
    ["agent"],
    buckets=LATENCY_BUCKETS,
)
AGENT_TOKENS = Counter("chorus_agent_tokens", "LLM tokens each agent used", ["agent", "kind"])
LLM_RUNNING = Gauge("chorus_llm_calls_running", "An agent's LLM calls holding a slot", ["agent"])
LLM_WAITING = Gauge("chorus_llm_calls_waiting", "An agent's LLM calls queued for a slot", ["agent"])
CIRCUIT_OPEN = Gauge("chorus_circuit_open", "1 while an agent's circuit is open (the agent is skipped)", ["agent"])
