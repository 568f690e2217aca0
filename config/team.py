"""The team, declared in a file (TEAM_FILE, TOML): the agents the supervisor plans over.

    [[agent]]
    name = "weather"                    # unique; shown in metadata.agents_used and the trace
    protocol = "openai"                 # "chorus" (our task protocol) or "openai"
    url = "http://127.0.0.1:9000/v1"    # for "openai": a base URL ending in /v1, with `model`
    model = "weather-model"
    description = "Current weather and forecasts for a city."
    keywords = ["weather", "forecast", "rain"]   # for the rules planner

The built-in researcher, analyst and writer are entries like any other (protocol "chorus", their URL
from the settings); `make up` starts only the ones the file declares. A file that is wrong is refused
whole, with the line of the entry at fault, before anything starts.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

BUILT_IN = ("researcher", "analyst", "writer")
PROTOCOLS = ("chorus", "openai")
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
ENTRY = re.compile(r"^\s*\[\[\s*agent\s*\]\]\s*(#.*)?$")


class TeamFileError(ValueError):
    """A team file that cannot be used; the message names the file and the line."""


class Member(BaseModel):
    name: str
    protocol: Literal["chorus", "openai"] = "chorus"
    url: str = ""  # chorus: empty for a built-in (its URL comes from the settings)
    description: str = ""
    keywords: list[str] = Field(default_factory=list)
    role: Literal["worker", "writer"] = "worker"
    model: str = ""  # openai members
    api_key_env: str = ""  # openai members: the environment variable that holds its key
    line: int = 0  # where the entry starts in the file

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError("must be lowercase letters, digits, - or _, starting with a letter")
        return value

    @property
    def built_in(self) -> bool:
        return self.name in BUILT_IN and self.protocol == "chorus"


class Roster(BaseModel):
    members: list[Member]

    @property
    def workers(self) -> list[Member]:
        return [m for m in self.members if m.role == "worker"]

    @property
    def extra_workers(self) -> list[Member]:
        """The workers beyond the built-in ones: members the rules plan by their keywords."""
        return [m for m in self.workers if not m.built_in]

    def declares(self, name: str) -> bool:
        return any(m.name == name for m in self.members)


def load_team(path: Path) -> Roster:
    """The team the file declares; a TeamFileError naming the line of what is wrong."""
    try:
        text = path.read_text()
    except OSError as error:
        raise TeamFileError(f"{path}: cannot be read ({error.strerror})") from error
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise TeamFileError(f"{path}: not valid TOML ({error})") from error
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if ENTRY.match(line)]
    entries = raw.get("agent")
    if not isinstance(entries, list) or not entries:
        raise TeamFileError(f"{path}: declares no [[agent]]")
    members: list[Member] = []
    for at, entry in enumerate(entries):
        line = lines[at] if at < len(lines) else 0
        where = f"{path}, line {line}"
        if entry.get("protocol", "chorus") not in PROTOCOLS:
            raise TeamFileError(f"{where}: unknown protocol {entry.get('protocol')!r} (known: {', '.join(PROTOCOLS)})")
        try:
            member = Member.model_validate({**entry, "line": line})
        except ValidationError as error:
            problem = error.errors()[0]
            field = ".".join(str(p) for p in problem["loc"]) or "entry"
            raise TeamFileError(f"{where}: {field}: {problem['msg']}") from error
        if member.protocol == "openai" and not (member.url and member.model):
            raise TeamFileError(f"{where}: the openai member {member.name!r} needs a url (ending in /v1) and a model")
        if member.protocol == "chorus" and not member.url and not member.built_in:
            raise TeamFileError(f"{where}: the member {member.name!r} needs a url")
        if any(m.name == member.name for m in members):
            raise TeamFileError(f"{where}: the name {member.name!r} is declared twice")
        if member.role == "worker" and not member.built_in and not (member.keywords or member.description):
            raise TeamFileError(f"{where}: the worker {member.name!r} needs keywords or a description to be planned")
        members.append(member)
    writers = [m for m in members if m.role == "writer"]
    if len(writers) != 1:
        named = ", ".join(f"{m.name} (line {m.line})" for m in writers) or "none"
        raise TeamFileError(f'{path}: exactly one agent has role = "writer"; found {named}')
    if writers[0].name != "writer" or not writers[0].built_in:
        raise TeamFileError(f"{path}, line {writers[0].line}: the writer must be the built-in writer, for now")
    return Roster(members=members)
