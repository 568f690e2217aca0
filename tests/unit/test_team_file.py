"""The team file (config/team.py): what it declares, and each way it can be wrong, with its line."""

import pytest

from config.settings import PROJECT_ROOT
from config.team import TeamFileError, load_team
from orchestration.planner import plan_for_team
from tests.helpers import BUILT_IN_TEAM

BUILT_INS = BUILT_IN_TEAM
WEATHER = """
[[agent]]
name = "weather"
protocol = "openai"
url = "http://127.0.0.1:9000/v1"
model = "weather-model"
description = "Current weather and forecasts for a city."
keywords = ["weather", "forecast", "rain"]
"""


def team(tmp_path, text):
    path = tmp_path / "team.toml"
    path.write_text(text)
    return load_team(path)


def test_the_shipped_file_declares_the_three_built_in_agents():
    roster = load_team(PROJECT_ROOT / "config" / "team.toml")
    assert [(m.name, m.protocol, m.role, m.built_in) for m in roster.members] == [
        ("researcher", "chorus", "worker", True),
        ("analyst", "chorus", "worker", True),
        ("writer", "chorus", "writer", True),
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            BUILT_INS + '\n[[agent]]\nname = "billing"\nprotocol = "grpc"\nurl = "http://x"\n',
            "line 12: unknown protocol 'grpc'",
        ),
        (
            BUILT_INS + '\n[[agent]]\nname = "analyst"\nurl = "http://x"\nkeywords = ["x"]\n',
            "line 12: the name 'analyst' is declared twice",
        ),
        (
            BUILT_INS + '\n[[agent]]\nname = "billing"\nkeywords = ["invoice"]\n',
            "line 12: the member 'billing' needs a url",
        ),
        (
            BUILT_INS + '\n[[agent]]\nname = "faq"\nprotocol = "openai"\nurl = "http://x/v1"\nkeywords = ["faq"]\n',
            "needs a url (ending in /v1) and a model",
        ),
        (
            BUILT_INS + '\n[[agent]]\nname = "poet"\nrole = "writer"\nurl = "http://x"\n',
            'exactly one agent has role = "writer"; found writer (line 8), poet (line 12)',
        ),
        (BUILT_INS.replace('role = "writer"', ""), 'exactly one agent has role = "writer"; found none'),
        (BUILT_INS + '\n[[agent]]\nname = "Bad Name"\nurl = "http://x"\n', "line 12: name:"),
        ("[[agent]\nname = 1", "not valid TOML"),
    ],
)
def test_a_wrong_file_is_refused_naming_its_line(tmp_path, text, says):
    with pytest.raises(TeamFileError) as refused:
        team(tmp_path, text)
    assert says in str(refused.value) and "team.toml" in str(refused.value)


def test_the_rules_plan_a_member_by_its_keywords(tmp_path):
    roster = team(tmp_path, BUILT_INS + WEATHER)
    assert plan_for_team("Will it rain in Paris tomorrow?", [], roster).agents == ["weather"]  # not the researcher
    both = plan_for_team("What do the docs say about Redis, and what's the forecast for Oslo?", [], roster)
    assert both.agents == ["researcher", "weather"]
    assert plan_for_team("What is 15% of 240?", [], roster).agents == ["analyst"]  # no keyword: as before
    without_analyst = team(
        tmp_path,
        BUILT_INS.replace(
            'name = "analyst"',
            'name = "weather"\nprotocol = "openai"\nurl = "http://x/v1"\nmodel = "m"\nkeywords = ["weather"]',
        ),
    )
    assert plan_for_team("What is 15% of 240?", [], without_analyst).agents == []  # only what the file declares
