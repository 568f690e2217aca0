"""Planning: which agents a request needs. An LLM plan when the model can plan, rules otherwise.

The rules planner stands on its own: the embedded 135M model returns valid JSON but picks the
right agents 0 times in 30, so with it the rules decide.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, Field, ValidationError

from agents.structured import portable
from config import Settings
from config.team import Roster
from orchestration.protocol import AgentName

log = logging.getLogger(__name__)

RequestKind = Literal["small_talk", "writing", "research", "analysis", "research_and_analysis", "members"]
WORKERS: tuple[AgentName, ...] = ("researcher", "analyst")


class Plan(BaseModel):
    kind: RequestKind
    agents: list[str] = Field(description="Workers to call before the writer, in order")
    reason: str = ""
    planner: Literal["rules", "llm"] = "rules"
    fallback: str = ""  # why the model's plan was not used, when the rules planned in its place

    @property
    def team(self) -> list[str]:
        return [*self.agents, "writer"]


# --- rules ------------------------------------------------------------------------------------
SMALL_TALK = re.compile(
    r"^\s*(hi|hello|hey|yo|hiya|howdy|good (morning|afternoon|evening)|thanks?( you)?|thank you|"
    r"cheers|bye|goodbye|see you|ok(ay)?|cool|great|nice|how are you|who are you|what'?s up|"
    r"what is your name|what can you do)\b[\s\S]{0,40}$",
    re.IGNORECASE,
)
RECALL = re.compile(  # about the conversation itself: the writer has the history
    r"\b(my name|who am i|what did (i|you|we) (just )?(say|ask|tell|write)|remind me|"
    r"you (just )?(said|told|wrote)|i (just )?(said|told you)|earlier|previous(ly)?|last (message|answer)|"
    r"(summari[sz]e|shorten|rephrase|repeat) (that|this|it|your (last )?answer|our conversation))\b",
    re.IGNORECASE,
)
ANALYSIS = re.compile(
    r"\b(calculat\w*|comput\w*|growth|grew|cagr|percent\w*|average|mean|median|sum|total|"
    r"statistic\w*|std|deviation|variance|ratio|increase|decrease|difference|how much|how many|"
    r"multipl\w*|divide\w*|subtract|add up|plus|minus|times|squared|cubed|square root|power of|"
    r"convert|conversion|estimate|forecast|margin|rate of|per cent|discount|tip|interest|split|"
    r"minimum|maximum|lowest|highest|rose|fell|declin\w*|dropped|doubl\w*|tripl\w*|quadrupl\w*|halv\w*|"
    r"(per|a|an|each|every) (second|minute|hour|day|week|month|quarter|year)|"
    r"analy[sz]\w*|compare the (numbers|figures)|"
    r"price|cost|costs|pay|paid|salary|earn\w*|wages?|worth|left|churn|share|margin|mark-?up|mpg|speed|pace|"
    r"how far|how long|per [a-z]+|apiece|comes? to|area|bill|loan|mortgage|each|half|thirds?|quarters?|fraction|split|sav(e|es|ings)|return|"
    r"fill-?up|remain\w*|left ?over|(win|churn|conversion|savings|tax|interest|growth|hourly|click-through|"
    r"retention) rate|"
    r"(in|into|to)\s+(\w+\s+)?(km|kilomet\w+|miles?|met(er|re)s?|feet|foot|inch\w*|[kmgt]i?b|litres?|liters?|"
    r"gallons?|pounds|kg|ounces|celsius|fahrenheit|hours|minutes|days|weeks|months|years|mph|kph|km/h|mpg))\b"
    r"|\d\s*[-+*/^x×÷]\s*\d|\d\s*%|%\s*of\b|\d\s*/\s*\d"
    r"|\d[^.?!]*\b(in|into|to)\s+[a-z/°]+\s*\??\s*$"  # "200 pounds in kilograms?": a conversion
    r"|\d\s*[a-z]*\s+by\s+\d",  # "5 m by 3.5 m"
    re.IGNORECASE,
)
HAS_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    r"fifty|hundred|thousand|million|billion|dozen|half)\b",
    re.IGNORECASE,
)
RESEARCH = re.compile(  # asks for facts, whatever else it asks
    r"\b(research\w*|look up|find( out)?|search\w*|according to|knowledge base|docs?|documentation|"
    r"what does .{1,60} say|what do(es)? (the|our) |explain\w*|describe (the|how|what|our|its)|"
    r"tell me about|sources?|cite|"
    r"references?|background|overview|learn about|details? (on|about)|configur\w*|install\w*|"
    r"set ?up|how (do|does|can|should) (i|we|you|it|chorus|the)\b)",
    re.IGNORECASE,
)
QUESTION = re.compile(  # a plain question: facts, unless it is only about figures
    r"\b(what is|what are|who|where|when|why|which|how)\b|\?\s*$",
    re.IGNORECASE,
)
WRITING = re.compile(
    r"\b(describe an? |suggest|recommend|give me (a|an|some|\w+) (ideas?|quotes?|names?)|quote|come up with|brainstorm|imagine|invent|name for|names for|ideas? for|"
    r"rewrite|rephrase|paraphrase|reword|proofread|polish|translate|shorten|summari[sz]e this|"
    r"fix (the )?grammar|make (it|this) (more|less|shorter|longer|formal|casual)|"
    r"write|draft|compose|poem|haiku|limerick|song|lyrics|story|email|letter|tweet|slogan|tagline|"
    r"joke|riddle|essay|greeting|toast|caption)\b",
    re.IGNORECASE,
)


HOW_TO = re.compile(r"^\s*how (do|does|can|should|would) (i|we|you|one)\b", re.IGNORECASE)
FOLLOW_UP = re.compile(  # "and to 200?", "what about 5 years?", "and per week?": the earlier request, changed
    r"^\s*(and|what about|how about|and what about|same for|what if|and if|now|ok(ay)?|make (it|that)|"
    r"change (it|that) to|try|say|instead|use|with)\b.{0,60}\d|^\s*(to|from|over)\s+\d"
    r"|^\s*(and\s+|what about\s+|how about\s+)?(per|a|an|each|every)\s+(hour|day|week|month|quarter|year)\b"
    r"|^\s*(what'?s|what is|how much is|and) (that|it|this)\b.{0,30}\b(per|an?|each|every|in|over|for)\b"
    r"|^\s*(and\s+)?(add|include)\s+\d"
    r"|^\s*(and|what about|how about|also)\s+(the\s+)?(total|tax|tip|discount|interest|payment|difference|average|"
    r"sum|percent\w*|per person|each|altogether|in total)\b"
    r"|^.{0,40}\b(is|was|would be) (that|it|this)\s*[?.!]*\s*$",  # "How much per year is that?"
    re.IGNORECASE,
)
STRONG_RESEARCH = re.compile(
    r"\b(knowledge base|docs?|documentation|according to|sources?|cite|research\w*)\b", re.IGNORECASE
)
CLAUSE = re.compile(
    r"[.?!;]+\s+|,\s*(?:and|but|also|then)\s+|\s+and\s+(?=(?:compute|calculate|work out|figure out)\b)", re.IGNORECASE
)


def asks_for_facts(text: str) -> bool:
    """A research cue in a clause of its own: "find the median of 7, 3 and 9" asks for a figure, not facts."""
    return bool(STRONG_RESEARCH.search(text)) or any(
        RESEARCH.search(clause) and not re.search(r"\d", clause) for clause in CLAUSE.split(text)
    )


def plan_by_rules(request: str, earlier: list[str] | None = None) -> Plan:
    text = request.strip()
    if earlier and FOLLOW_UP.search(text) and len(text.split()) <= 12:
        previous = plan_by_rules(earlier[-1])
        if "analyst" in previous.agents:
            return Plan(kind="analysis", agents=["analyst"], reason="follow-up to a computation")
    if (
        earlier
        and ANALYSIS.search(text)
        and not HAS_NUMBER.search(text)
        and HAS_NUMBER.search(earlier[-1])
        and not asks_for_facts(text)
        and len(text.split()) <= 12
    ):
        return Plan(kind="analysis", agents=["analyst"], reason="asks for a figure of the numbers given before")
    if not text or (SMALL_TALK.match(text) and not ANALYSIS.search(text)):
        return Plan(kind="small_talk", agents=[], reason="greeting or small talk: fast path")
    # figures to compute need both a cue and a number ("what is 2 to the power of 10?")
    wants_analysis = bool(ANALYSIS.search(text)) and bool(HAS_NUMBER.search(text))
    if RECALL.search(text) and not wants_analysis:
        return Plan(kind="small_talk", agents=[], reason="about the conversation itself: fast path")
    wants_research = asks_for_facts(text) or (bool(QUESTION.search(text)) and not wants_analysis)
    writing = None if HOW_TO.match(text) else WRITING.search(text)  # "how do I write tests?" asks for facts
    if writing and not wants_analysis and (not wants_research or writing.start() < 16):
        # "Rewrite this ..." / "Write a haiku about ..." go straight to the writer.
        return Plan(kind="writing", agents=[], reason="plain writing: fast path")
    if wants_research and wants_analysis:
        return Plan(
            kind="research_and_analysis", agents=["researcher", "analyst"], reason="asks for facts and for figures"
        )
    if wants_analysis:
        return Plan(kind="analysis", agents=["analyst"], reason="asks for figures")
    if wants_research:
        return Plan(kind="research", agents=["researcher"], reason="asks for facts")
    if len(text.split()) <= 4:
        return Plan(kind="small_talk", agents=[], reason="short message: fast path")
    return Plan(kind="research", agents=["researcher"], reason="open question: look it up first")


def plan_for_team(request: str, earlier: list[str], roster: Roster) -> Plan:
    """The rules' plan over the team the file declares: the built-in rules for the built-in workers it
    declares, and each other worker whose keywords the request uses. A member asked for by name takes
    over an open question from the researcher (which keeps a question that asks the docs)."""
    plan = plan_by_rules(request, earlier)
    declared = [a for a in plan.agents if roster.declares(a)]
    called = [m.name for m in roster.extra_workers if _uses(request, m.keywords)]
    if not called:
        return plan.model_copy(update={"agents": declared}) if declared != plan.agents else plan
    if plan.kind in ("small_talk", "writing") or (plan.kind == "research" and not asks_for_facts(request)):
        declared = [a for a in declared if a != "researcher"]
    return Plan(kind="members", agents=[*declared, *called], reason=f"asks for {', '.join(called)}")


def _uses(request: str, keywords: list[str]) -> bool:
    return any(re.search(rf"\b{re.escape(k)}(s|es)?\b", request, re.IGNORECASE) for k in keywords if k.strip())


# --- LLM --------------------------------------------------------------------------------------
class LLMPlan(BaseModel):
    agents: list[str]
    reason: str = ""


BUILT_IN_WORKERS = {
    "researcher": "looks facts up in the knowledge base",
    "analyst": "computes numbers (growth rates, percentages, sums, averages)",
}


def plan_schema(workers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "agents": {"type": "array", "items": {"type": "string", "enum": list(workers)}, "maxItems": len(workers)},
            "reason": {"type": "string", "maxLength": 200},
        },
        "required": ["agents", "reason"],
        "additionalProperties": False,
    }


def planner_prompt(workers: dict[str, str]) -> str:
    listed = "; ".join(f"'{name}' {what}" for name, what in workers.items())
    return (
        f"You route a request to a team. Choose the workers the request needs before the writer answers: "
        f"{listed}. Choose none for greetings, small talk and plain writing or rewriting. Answer with JSON only."
    )


async def plan_by_llm(
    request: str, llm: ChatOpenAI, bounded: bool = True, workers: dict[str, str] | None = None
) -> tuple[Plan | None, str]:
    """The LLM's plan; or None, and why, when it is invalid or the LLM failed (then the rules decide).
    bounded: the schema keeps its length bounds, which llama.cpp's grammar needs to stop a small model
    looping inside the reason; a capable endpoint's strict mode refuses them (see `portable`).
    workers: the team's workers and what each does (default: the built-in ones)."""
    workers = workers or BUILT_IN_WORKERS
    schema = plan_schema(workers)
    bound = llm.bind(
        response_format={
            "type": "json_schema",
            "json_schema": {
                "name": "plan",
                "schema": schema if bounded else portable(schema),
                "strict": True,
            },
        },
        max_tokens=120,
        temperature=0,
    )
    try:
        reply = await bound.ainvoke([SystemMessage(planner_prompt(workers)), HumanMessage(request)])
        parsed = LLMPlan.model_validate(json.loads(str(reply.content)))
    except ValidationError:
        log.info("LLM plan rejected (not a plan): using the rules")
        return None, "the model's plan did not match the plan's schema"
    except ValueError:
        log.info("LLM plan rejected (not JSON): using the rules")
        return None, "the model's plan was not JSON"
    except Exception as error:  # the planner's LLM being down must not stop the request
        log.warning("LLM planner failed (%s): using the rules", error)
        return None, f"the model failed ({type(error).__name__})"
    agents = [a for a in workers if a in parsed.agents]  # the team's order, no duplicates
    if len(agents) != len(set(parsed.agents)):
        return None, "the model's plan named an agent that is not a worker"
    kind: RequestKind = (
        "members"
        if set(agents) - set(WORKERS)
        else "research_and_analysis"
        if len(agents) == 2
        else "research"
        if agents == ["researcher"]
        else "analysis"
        if agents == ["analyst"]
        else "writing"
    )
    return Plan(kind=kind, agents=agents, reason=parsed.reason[:200], planner="llm"), ""


def llm_planning_enabled(settings: Settings) -> bool:
    if settings.planner == "auto":
        return settings.profile("supervisor") == "capable"  # a basic model cannot plan: rules do
    return settings.planner == "llm"
