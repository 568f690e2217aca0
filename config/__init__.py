"""Chorus configuration: one typed settings object."""

from config.settings import AGENT_ROLES, PROJECT_ROOT, LLMSettings, Settings, load_settings

__all__ = ["AGENT_ROLES", "PROJECT_ROOT", "LLMSettings", "Settings", "load_settings"]
