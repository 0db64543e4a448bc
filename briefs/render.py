"""Brief -> Markdown, HTML page, archive index and email (HTML + plain text). Pure: no I/O
beyond reading templates.

Templates are Jinja2, looked up in the user's folder (``templates`` in the config) first, then in
the defaults shipped with briefs. Autoescaping is on for HTML and XML: every string in a Brief came
from an untrusted feed.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from briefs.errors import RenderError
from briefs.models import Brief, EditionRecord

__all__ = ["Renderer", "safe_url", "template_dirs"]

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def template_dirs(user_dir: Path | None = None) -> list[Path]:
    """Where templates are looked up, in order: the user's folder, then the shipped defaults."""
    dirs: list[Path] = []
    if user_dir is not None:
        dirs.append(user_dir)
    packaged = Path(str(resources.files("briefs"))) / "templates"
    if packaged.is_dir():
        dirs.append(packaged)
    source_tree = Path(__file__).resolve().parent.parent / "templates"
    if source_tree.is_dir():
        dirs.append(source_tree)
    return dirs


def safe_url(value: str | None) -> str:
    """The URL if it is an absolute http(s) URL, else an empty string (never javascript:, data:)."""
    if not value:
        return ""
    value = value.strip()
    if any(ord(c) < 33 for c in value):
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return value


def md_escape(value: Any) -> str:
    """Escape text for Markdown so that feed text cannot become links, HTML or emphasis."""
    text = " ".join(str(value).split())
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_url(value: str | None) -> str:
    """A URL safe inside a Markdown link destination (http(s) only, angle-bracketed)."""
    url = safe_url(value)
    return url.replace("<", "%3C").replace(">", "%3E").replace(" ", "%20") if url else ""


class Renderer:
    """Renders Briefs with the configured templates."""

    def __init__(self, user_dir: Path | None = None, timezone: str = "UTC") -> None:
        self.zone = zoneinfo.ZoneInfo(timezone)
        loader = jinja2.FileSystemLoader([str(d) for d in template_dirs(user_dir)])
        self.html_env = self._env(loader, autoescape=True)
        self.text_env = self._env(loader, autoescape=False)

    def _env(self, loader: jinja2.BaseLoader, *, autoescape: bool) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=loader,
            autoescape=autoescape,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        env.filters["safe_url"] = safe_url
        env.filters["md"] = md_escape
        env.filters["md_url"] = md_url
        env.filters["local"] = self._local
        env.filters["longdate"] = self._longdate
        return env

    def _local(self, value: dt.datetime, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
        return value.astimezone(self.zone).strftime(fmt)

    @staticmethod
    def _longdate(value: dt.date) -> str:
        return f"{value.strftime('%A')}, {value.day} {value.strftime('%B %Y')}"

    def _render(self, env: jinja2.Environment, name: str, **context: Any) -> str:
        try:
            return env.get_template(name).render(**context)
        except jinja2.TemplateNotFound as exc:
            raise RenderError(f"template {exc.name!r} not found in {template_dirs()}") from exc
        except jinja2.TemplateError as exc:
            raise RenderError(f"template {name!r} failed: {exc}") from exc

    def markdown(self, brief: Brief) -> str:
        """The brief as CommonMark with reference-style citations."""
        return self._render(self.text_env, "brief.md.j2", brief=brief)

    def html_fragment(self, brief: Brief) -> str:
        """The brief's stories as an HTML fragment (the content of feed items)."""
        return self._render(self.html_env, "fragment.html.j2", brief=brief)

    def html_page(
        self, brief: Brief, archive: Sequence[EditionRecord], *, is_index: bool = False
    ) -> str:
        """A complete HTML page for one edition (also used for index.html, with the archive)."""
        return self._render(
            self.html_env, "brief.html.j2", brief=brief, archive=archive, is_index=is_index
        )

    def email_html(self, brief: Brief, stories: Sequence[Any] | None = None) -> str:
        """The email edition's HTML (CSS not yet inlined)."""
        return self._render(
            self.html_env,
            "email.html.j2",
            brief=brief,
            stories=brief.stories if stories is None else stories,
        )

    def email_text(self, brief: Brief, stories: Sequence[Any] | None = None) -> str:
        """The email edition's plain-text alternative, made from the same model."""
        return self._render(
            self.text_env,
            "email.txt.j2",
            brief=brief,
            stories=brief.stories if stories is None else stories,
        )

    @staticmethod
    def markup(value: str) -> Markup:
        """Mark already-rendered, trusted HTML (our own fragment) as safe."""
        return Markup(value)
