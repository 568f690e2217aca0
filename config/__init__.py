"""Chorus configuration: one typed settings object."""

from config.settings import LLM_ROLES, PROJECT_ROOT, LLMSettings, Settings, load_settings

__all__ = ["LLM_ROLES", "PROJECT_ROOT", "LLMSettings", "Settings", "load_settings"]
