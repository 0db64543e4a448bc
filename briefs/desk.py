"""The desk: the index of several briefs (the output folder's ``index.html``).

With more than one brief each publishes in its own folder; the output folder itself holds
this page, listing every brief with its latest edition's top headlines, its archive and its
feeds, so ``briefs serve`` (or any static host) shows the briefs at ``/``. It is written after
every run or build of any brief, from the store (each brief's newest edition record).
"""

from __future__ import annotations

from dataclasses import dataclass

from briefs.config import BriefSpec, Config
from briefs.models import EditionRecord
from briefs.publish import Publisher
from briefs.render import Renderer
from briefs.store import Store

__all__ = ["DESK_INDEX", "DeskEntry", "desk_entries", "write_desk_index"]

DESK_INDEX = "index.html"


@dataclass(frozen=True, slots=True)
class DeskEntry:
    """One brief on the index: its spec, its folder's URL (relative, ending in "/"), its
    newest edition (None before the first) and how many editions it has."""

    spec: BriefSpec
    folder: str
    latest: EditionRecord | None
    editions: int

    @property
    def headlines(self) -> list[str]:
        """The newest edition's top headlines (as recorded with it)."""
        if self.latest is None or not self.latest.summary:
            return []
        return [h for h in self.latest.summary.split("; ") if h]


def desk_entries(config: Config, store: Store) -> list[DeskEntry]:
    """Every brief of the desk with its newest edition, in the file's order."""
    entries = []
    for spec in config.desk:
        ids = store.edition_ids(spec.id)
        latest = store.recent_editions(1, spec.id, html=False)
        folder = f"{spec.output}/" if spec.output else "./"
        entries.append(DeskEntry(spec, folder, latest[0] if latest else None, len(ids)))
    return entries


def write_desk_index(config: Config, store: Store) -> str:
    """Write the index of the briefs into the output folder; the path written."""
    base = config.for_brief(config.desk[0].id)
    settings = base.brief
    site = settings.site_url
    if base.current.output and site.rstrip("/").endswith(f"/{base.current.output}"):
        site = site.rstrip("/")[: -len(base.current.output)]
    renderer = Renderer(
        config.templates,
        settings.timezone,
        site_url=site,
        language=settings.language,
    )
    page = renderer.page("desk.html.j2", title="All briefs", entries=desk_entries(config, store))
    out = Publisher(config.root)
    out.write(DESK_INDEX, page)
    return str(out.path(DESK_INDEX))
