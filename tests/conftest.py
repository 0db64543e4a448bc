"""Shared fixtures: a temporary copy of the bundled seeds, paths to ../shared data."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
# ../shared beside the project; $BRIEFS_SHARED points elsewhere (e.g. from a git worktree).
SHARED = Path(os.environ.get("BRIEFS_SHARED") or ROOT.parent / "shared")
SHARED_DATA = SHARED / "data"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test (with the reason) when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"{path} is not present (the shared evaluation data lives beside the project in CI)"
        )
    return path


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A private copy of seeds/ (config, feeds, documents) whose output goes to tmp_path/output."""
    dest = tmp_path / "seeds"
    shutil.copytree(SEEDS, dest, ignore=shutil.ignore_patterns("*.db*"))
    return dest


@pytest.fixture
def seeds_fetching_pages(seeds_copy: Path) -> Path:
    """:func:`seeds_copy` with full-text fetching on (the demo, offline, has it off): its teaser
    items' pages are tried, and refused by the address guard (their hosts are .example)."""
    config = seeds_copy / "briefs.toml"
    text = config.read_text(encoding="utf-8")
    assert "fetch_full_text = false" in text
    config.write_text(text.replace("fetch_full_text = false", "fetch_full_text = true"))
    return seeds_copy
