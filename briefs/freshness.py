"""Is an edition already up to date? Its stamp: a digest of everything it is built from.

A run that finds nothing new leaves an edition alone when its stamp matches the one recorded at
its last build and the files of its wanted outputs (:func:`briefs.outputs.edition_files`) are
still there.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping

from briefs import __version__
from briefs.config import Config
from briefs.models import Edition
from briefs.outputs import asked_outputs, edition_files
from briefs.publish import Publisher
from briefs.render import template_dirs
from briefs.slots import edition_window, previous_counts
from briefs.store import Store
from briefs.store.editions import built_key

__all__ = ["built_from", "edition_stamp", "remember_build", "up_to_date"]


def edition_stamp(
    config: Config, store: Store, edition: Edition, failed: tuple[tuple[str, str], ...]
) -> str:
    """A digest of everything an edition is built from, short of the clock.

    The settings and sources, the templates, briefs' version, the failed sources, the previous
    edition and the members of every story in the edition's window: when none of these changed,
    building again would write the same edition.
    """
    window_start, _ = edition_window(config, edition)
    digest = hashlib.sha256()
    # the brief's own settings, not its neighbours' (changing one brief rebuilds only it)
    own = dataclasses.replace(config, briefs=(config.current,)) if config.briefs else config
    digest.update(repr((__version__, own, edition, failed)).encode())
    for folder in template_dirs(config.templates):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = path.stat()
            digest.update(f"{path}\0{info.st_mtime_ns}\0{info.st_size}\n".encode())
    previous = previous_counts(config, store, edition)
    digest.update(json.dumps(previous, sort_keys=True).encode())
    for story in sorted(store.stories_updated_since(window_start), key=lambda s: s.id):
        digest.update(f"{story.id}:{','.join(story.article_ids)}\n".encode())
    return digest.hexdigest()


def up_to_date(
    config: Config, store: Store, edition: Edition, stamp: str, asked: Mapping[str, bool]
) -> int | None:
    """The edition's story count if it was built from exactly this and the files of its wanted
    outputs are there (``asked``: as for :func:`briefs.outputs.write_outputs`)."""
    built = json.loads(store.get_meta(built_key(config.brief_id, edition.id)) or "{}")
    if built.get("stamp") != stamp:
        return None
    out = Publisher(config.output)
    if not all(out.path(name).is_file() for name in edition_files(config, edition.id, asked)):
        return None
    return int(built.get("stories", 0))


def built_from(
    config: Config,
    store: Store,
    edition: Edition,
    failed: tuple[tuple[str, str], ...],
    email: bool | None,
    rebuild: bool,
) -> tuple[str, int | None]:
    """The edition's stamp, and its story count when it is already built from exactly that (its
    files there, the .eml too when the email is wanted); None when it must be built (or
    ``rebuild``)."""
    stamp = edition_stamp(config, store, edition, failed)
    asked = asked_outputs(email)
    return stamp, None if rebuild else up_to_date(config, store, edition, stamp, asked)


def remember_build(
    config: Config, store: Store, edition: Edition, stamp: str, stories: int
) -> None:
    """Record the stamp (and story count) the brief's edition was just built from."""
    key = built_key(config.brief_id, edition.id)
    store.set_meta(key, json.dumps({"stamp": stamp, "stories": stories}))
