"""The brief's own words in its language: gettext catalogues for the templates' fixed text,
Babel for dates and numbers.

The catalogues are shipped inside the package (``briefs/locale/<lang>/LC_MESSAGES/briefs.po``)
and compiled when first used (Babel's own compiler, in memory: nothing is downloaded or
written). English is the language of the templates themselves and has no catalogue. A
language without a catalogue, or a message a catalogue lacks, falls back to English, never to
an error; ``fr-CA`` takes ``fr_CA``, else ``fr``. Date patterns are messages too (``EEEE, d
MMMM y`` in English), so each language orders its dates its own way; Babel fills in the
names of days and months.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import io
import logging
import re
from pathlib import Path

import babel
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

__all__ = ["LOCALE_DIR", "Language", "languages", "translations"]

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "briefs"
_CODE = re.compile(r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$")


def _candidates(language: str) -> list[str]:
    """Catalogue names to try for a language tag: ``fr-CA`` -> ``fr_CA``, ``fr``."""
    if not _CODE.match(language or ""):
        return []
    parts = language.replace("-", "_").split("_")
    base = parts[0].lower()
    full = "_".join([base, *(p.upper() if len(p) == 2 else p for p in parts[1:])])
    return list(dict.fromkeys([full, base]))


def languages() -> list[str]:
    """The languages with a shipped catalogue (English, the templates' own, besides)."""
    found = LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")
    return sorted(p.parent.parent.name for p in found)


@functools.lru_cache(maxsize=16)
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of a language; English (no translation) when there is none."""
    for code in _candidates(language):
        po = LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po.is_file():
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=code, domain=DOMAIN)
            buffer = io.BytesIO()
            write_mo(buffer, catalog)
            buffer.seek(0)
            return gettext.GNUTranslations(buffer)
    return gettext.NullTranslations()


@functools.lru_cache(maxsize=16)
def _locale(language: str) -> babel.Locale:
    for code in _candidates(language):
        try:
            return babel.Locale.parse(code)
        except (ValueError, babel.UnknownLocaleError):
            continue
    return babel.Locale.parse("en")


class Language:
    """Messages, dates and numbers in one language (unknown parts in English; a language
    without a catalogue is English throughout, its dates included)."""

    def __init__(self, language: str) -> None:
        self.code = language
        self.messages = translations(language)
        # without a catalogue the words are English: so are the dates (never "sábado, 6 April")
        catalogued = isinstance(self.messages, gettext.GNUTranslations)
        self.locale = _locale(language if catalogued else "en")

    def gettext(self, message: str) -> str:
        """The message in this language (itself when untranslated)."""
        return self.messages.gettext(message)

    def number(self, value: int) -> str:
        """A count as this language writes it (``1,234``; ``1 234`` in French)."""
        return format_decimal(value, locale=self.locale)

    def decimal(self, value: float) -> str:
        """A score to two decimals (``0.42``; ``0,42`` in French)."""
        return format_decimal(value, "0.00", locale=self.locale)

    def date(self, value: dt.date, pattern: str) -> str:
        """A date by an English pattern, the pattern itself translated (see the module)."""
        return format_date(value, self.gettext(pattern), locale=self.locale)

    def datetime(self, value: dt.datetime, pattern: str) -> str:
        """A local time by an English pattern, translated (see :meth:`date`)."""
        return format_datetime(
            value, self.gettext(pattern), tzinfo=value.tzinfo, locale=self.locale
        )
