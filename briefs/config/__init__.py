"""Typed, validated settings from one TOML file.

Settings are merged defaults <- file <- environment <- command line and validated once. Every
section is a frozen dataclass; unknown keys and wrong types are errors that name the key and the
file. Secrets (the SMTP password) come from the environment, never from the file.

The package: ``settings`` (the dataclasses), ``load`` (finding and reading the file),
``bounds`` (types and ranges of values), ``checks`` (checks across a section's keys),
``environment`` (``BRIEFS_<SECTION>_<KEY>`` overrides), ``sources`` (the ``[[sources]]``
tables), ``briefs`` (the ``[[briefs]]`` tables) and ``edit`` (changing the file in place for
``briefs sources ...``).
"""

from __future__ import annotations

from briefs.config.bounds import BOUNDS
from briefs.config.checks import cron_trigger, split_edition
from briefs.config.edit import NewSource, add_sources, remove_source, set_source_enabled
from briefs.config.load import CONFIG_ENV, DEFAULT_CONFIG_NAMES, find_config, load_config
from briefs.config.settings import (
    SECTIONS,
    SLOT_NAME,
    BriefSettings,
    BriefSpec,
    Config,
    EmailSettings,
    FetchSettings,
    GroupSettings,
    NotifySettings,
    ScheduleSettings,
    ServeSettings,
    SummarySettings,
)
from briefs.errors import ConfigError
from briefs.models import DEFAULT_BRIEF
from briefs.summarize.methods import SUMMARY_METHODS

__all__ = [
    "BOUNDS",
    "CONFIG_ENV",
    "DEFAULT_BRIEF",
    "DEFAULT_CONFIG_NAMES",
    "SECTIONS",
    "SLOT_NAME",
    "SUMMARY_METHODS",
    "BriefSettings",
    "BriefSpec",
    "Config",
    "ConfigError",
    "EmailSettings",
    "FetchSettings",
    "GroupSettings",
    "NewSource",
    "NotifySettings",
    "ScheduleSettings",
    "ServeSettings",
    "SummarySettings",
    "add_sources",
    "cron_trigger",
    "find_config",
    "load_config",
    "remove_source",
    "set_source_enabled",
    "split_edition",
]
