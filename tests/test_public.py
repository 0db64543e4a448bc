"""The public surface declared in briefs/__init__.py: every name resolves, and is the real thing."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import briefs
from briefs import config, errors, pipeline


def test_every_public_name_resolves_to_its_home() -> None:
    homes = {
        "run": pipeline,
        "build": pipeline,
        "run_briefs": pipeline,
        "build_briefs": pipeline,
        "load_config": config,
        "Config": config,
        "BriefSpec": config,
    }
    for name in briefs.__all__:
        if name == "__version__":
            continue
        home = homes.get(name, errors)
        assert getattr(briefs, name) is getattr(home, name), name


def test_the_surface_names_the_run_the_config_and_every_error() -> None:
    assert {"run", "build", "load_config", "Config"} <= set(briefs.__all__)
    error_classes = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.BriefsError)
    }
    assert error_classes <= set(briefs.__all__)
    assert set(dir(briefs)) >= set(briefs.__all__)


def test_star_import_gives_the_surface_and_unknown_names_fail() -> None:
    namespace: dict[str, object] = {}
    exec("from briefs import *", namespace)
    assert namespace["run"] is pipeline.run
    assert namespace["BriefsError"] is errors.BriefsError
    with pytest.raises(AttributeError, match="no_such_name"):
        briefs.no_such_name  # noqa: B018


def test_importing_briefs_does_not_load_the_pipeline() -> None:
    code = "import sys, briefs; print('briefs.pipeline' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
