"""The summary methods by name: the one list the settings, the CLI and the scorers read.

Light on purpose (the configuration imports it): each name is scored by the function
``_<name>`` of :mod:`briefs.summarize.score`, looked up when that module is imported, so a
name without a scorer fails there and then. The first is the default.
"""

from __future__ import annotations

__all__ = ["SUMMARY_METHODS"]

SUMMARY_METHODS = ("textrank", "lexrank", "lsa", "luhn", "sumbasic", "edmundson")
