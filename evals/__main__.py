"""`python -m evals`: routing, tool choice, then grounding end to end, on a system of its own (free ports);
then retrieval on an outside collection, on a second system whose knowledge base is that collection."""

from __future__ import annotations

import logging
import signal
import sys
import tempfile
from pathlib import Path

from bench.systems import Stack, free_ports
from config import Settings
from evals import everyday, grounding, outside_docs, routing, tool_choice


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through main's finally, which stops the system


def main() -> int:
    signal.signal(signal.SIGTERM, _stop)  # `timeout` and process managers send SIGTERM; Ctrl-C is SIGINT
    signal.signal(signal.SIGHUP, _stop)
    logging.disable(logging.WARNING)  # the planner's fallbacks are counted, not logged, here
    stack = Stack(Path(tempfile.mkdtemp(prefix="chorus-eval-")), free_ports())
    try:  # from the start: a stop while the system starts stops what has started
        started = stack.run("up", check=False)
        if started.returncode != 0:
            print(f"the eval system did not start\n{started.stdout}\n{started.stderr}")
            return 1
        settings = Settings(_env_file=None, local_llm_port=stack.ports["llm"])
        routing.report(settings)
        print()
        tool_choice.report(settings)
        print()
        met = everyday.report(stack.base_url)  # first: it hardly uses the model, so a busy model cannot skew it
        print()
        grounded = grounding.report(stack.base_url)
        print()
        retrieved = outside_docs.report()
        return 0 if grounded and met and retrieved else 1
    finally:
        stack.run("down", check=False)


if __name__ == "__main__":
    sys.exit(main())
