"""The brief's own words in its language: every fixed phrase of the templates is in the French
and German catalogues, those briefs render in their language, and anything else falls back to
English (whose output the golden files pin byte for byte)."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from briefs.i18n import LOCALE_DIR, languages, translations
from briefs.models import EditionRecord
from briefs.render import Renderer, template_dirs
from tests.model import fixed_brief

# The date patterns briefs.render asks the catalogues for (messages too, see briefs.i18n).
DATE_PATTERNS = {"EEEE, d MMMM y", "EEE d MMM", "d MMMM y, HH:mm", "LLLL y"}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _template_messages() -> set[str | tuple[str, str]]:
    """Every message the shipped templates ask for: _() and the plural filter's nouns."""
    found: set[str | tuple[str, str]] = set(DATE_PATTERNS)
    folder = next(d for d in template_dirs() if (d / "brief.html.j2").is_file())
    for path in sorted(folder.glob("*.j2")):
        with path.open("rb") as fh:
            options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "True"}
            for _line, _func, message, _comments in babel_extract(fh, ("_",), [], options):
                found.add(message if isinstance(message, str) else message[0])
        for m in re.finditer(r'plural\("([^"]+)"(?:, "([^"]+)")?\)', path.read_text()):
            one, many = m.group(1), m.group(2) or m.group(1) + "s"
            found.add((f"%(num)s {one}", f"%(num)s {many}"))
    return found


def test_french_and_german_are_shipped() -> None:
    assert {"fr", "de"} <= set(languages())


@pytest.mark.parametrize("lang", ["fr", "de"])
def test_every_template_phrase_is_translated_with_the_same_placeholders(lang: str) -> None:
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "briefs.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    wanted = _template_messages()
    assert len(wanted) > 60
    missing = []
    for msgid in wanted:
        entry = catalog.get(msgid if isinstance(msgid, str) else msgid[0])
        if (
            entry is None
            or not entry.string
            or (isinstance(msgid, tuple) and not all(entry.string))
        ):
            missing.append(msgid)
            continue
        strings = [entry.string] if isinstance(entry.string, str) else list(entry.string)
        source = msgid if isinstance(msgid, str) else msgid[0]
        for s in strings:
            assert set(_PLACEHOLDER.findall(s)) == set(_PLACEHOLDER.findall(source)), (msgid, s)
    assert not missing, missing


def _archive(renderer: Renderer) -> list[EditionRecord]:
    brief = fixed_brief()
    return [EditionRecord(brief.edition, brief.generated_at, "t", "", "", len(brief.stories))]


def test_a_french_brief_speaks_french() -> None:
    r = Renderer(timezone="Europe/Paris", language="fr", site_url="https://n.example/")
    brief = fixed_brief()
    page = r.html_page(brief, _archive(r))
    doc = lxml.html.document_fromstring(page)
    assert doc.get("lang") == "fr"
    assert doc.xpath("//h1")[0].text_content().startswith("samedi 6 avril 2024")
    text = doc.text_content()
    assert "Sources en échec" in text and "Toutes les éditions" in text
    assert "Dans cette édition" in text and "Couverture" in text
    assert re.search(r"\b\d+ médias\b", text) and "Généré le" in text
    for english in ("Sources that failed", "All editions", "In this edition", "Coverage"):
        assert english not in text
    md = r.markdown(brief)
    assert "samedi 6 avril 2024" in md and "Page du sujet" in md
    assert "Chaque phrase ci-dessus" in md
    text_mail = r.email(brief)[1]
    assert "Lire sur le web" in text_mail and "Se désabonner" not in text_mail  # no address
    assert "avril 2024" in r.archive_page("t", _archive(r))


def test_a_german_brief_speaks_german() -> None:
    r = Renderer(timezone="Europe/Berlin", language="de", site_url="https://n.example/")
    brief = fixed_brief()
    page = r.html_page(brief, _archive(r))
    doc = lxml.html.document_fromstring(page)
    assert doc.get("lang") == "de"
    assert doc.xpath("//h1")[0].text_content().startswith("Samstag, 6. April 2024")
    text = doc.text_content()
    assert "Fehlgeschlagene Quellen" in text and "Berichterstattung" in text
    assert re.search(r"\b\d+ Medien\b", text) and "Erstellt am" in text
    assert "Sources that failed" not in text


def test_plural_forms_follow_the_language() -> None:
    for lang, one, many in (("fr", "1 média", "2 médias"), ("de", "1 Medium", "2 Medien")):
        r = Renderer(language=lang)
        plural = r.html_env.filters["plural"]
        assert plural(1, "outlet") == one and plural(2, "outlet") == many
    # French writes 0 in the singular, German and English in the plural
    assert Renderer(language="fr").html_env.filters["plural"](0, "report") == "0 article"
    assert Renderer(language="de").html_env.filters["plural"](0, "report") == "0 Berichte"
    assert (
        Renderer(language="fr").html_env.filters["plural"](1234, "report") == "1\u202f234 articles"
    )


@pytest.mark.parametrize("lang", ["es", "xx", "", "../../etc", "en-GB", "EN"])
def test_any_other_language_falls_back_to_english(lang: str) -> None:
    brief = fixed_brief()
    english = Renderer(language="en").markdown(brief)
    assert Renderer(language=lang).markdown(brief) == english


def test_a_regional_tag_takes_its_language() -> None:
    assert translations("fr-CA").gettext("Sources that failed") == "Sources en échec"
    assert translations("de_AT").gettext("Sources that failed") == "Fehlgeschlagene Quellen"


def test_a_phrase_no_catalogue_has_stays_english(tmp_path: Path) -> None:
    (tmp_path / "story.html.j2").write_text(
        '{{ _("A phrase of my own") }} {{ _("Sources that failed") }} {{ 3 | plural("cat") }}'
    )
    brief = fixed_brief()
    r = Renderer(tmp_path, language="fr")
    out = r.story_html(brief, brief.stories[0])
    assert out == "A phrase of my own Sources en échec 3 cats"
