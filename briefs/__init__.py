"""briefs: a self-hosted, automated news desk.

The names in ``__all__`` are the public surface: a program that embeds briefs imports them from
here (``from briefs import run, load_config``) and they keep their meaning; every other module may
move. They are loaded on first use, so ``import briefs`` stays cheap and the CLI's start-up does
not pay for the pipeline's imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from briefs.config import BriefSpec, Config, load_config
    from briefs.errors import (
        BriefsError,
        ConfigError,
        DeliveryError,
        EvaluationError,
        ExtractionError,
        FetchError,
        LockError,
        ParseError,
        PermanentDeliveryError,
        PublishError,
        RenderError,
        ServeError,
        SourceError,
        StoreError,
        TransientDeliveryError,
        UnsafeURLError,
    )
    from briefs.pipeline import build, build_briefs, run, run_briefs

__all__ = [
    "BriefSpec",
    "BriefsError",
    "Config",
    "ConfigError",
    "DeliveryError",
    "EvaluationError",
    "ExtractionError",
    "FetchError",
    "LockError",
    "ParseError",
    "PermanentDeliveryError",
    "PublishError",
    "RenderError",
    "ServeError",
    "SourceError",
    "StoreError",
    "TransientDeliveryError",
    "UnsafeURLError",
    "__version__",
    "build",
    "build_briefs",
    "load_config",
    "run",
    "run_briefs",
]

__version__ = "0.1.0"

# Where each public name lives (imported on first access, PEP 562).
_HOMES = {
    "run": "briefs.pipeline",
    "build": "briefs.pipeline",
    "run_briefs": "briefs.pipeline",
    "build_briefs": "briefs.pipeline",
    "load_config": "briefs.config",
    "Config": "briefs.config",
    "BriefSpec": "briefs.config",
} | {name: "briefs.errors" for name in __all__ if name.endswith("Error")}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'briefs' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
