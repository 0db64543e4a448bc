from __future__ import annotations

from pathlib import Path

import pytest

from briefs.config import find_config, load_config
from briefs.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "briefs.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_seed_config_loads_with_resolved_paths() -> None:
    config = load_config(Path(__file__).parent.parent / "seeds" / "briefs.toml")
    assert [s.id for s in config.sources][:2] == ["harbour-herald", "meridian-wire"]
    assert Path(config.sources[0].location).is_file()
    assert config.database.endswith("seeds/briefs.db")
    assert config.brief.date == "latest"
    assert config.brief.sections[0] == "world"


def test_defaults_without_sections(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    assert config.sources == ()
    assert config.summary.sentences == 3
    assert config.output == (tmp_path / "output").resolve()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("colour = 1", "unknown key 'colour'"),
        ("[brief]\nmax_storys = 3", "brief.'max_storys'"),
        ("[brief]\nmax_stories = 'ten'", "brief.max_stories must be an integer"),
        ("[brief]\nimages = 1", "brief.images must be true or false"),
        ("[brief]\nsections = [1, 2]", "brief.sections must be a list of strings"),
        ("[brief]\ntimezone = 'Mars/Olympus'", "unknown time zone"),
        ("[summary]\nsentences = -2", "must not be negative"),
        ("brief = 3", "[brief] must be a table"),
        ("[[sources]]\nkind = 'carrier-pigeon'\nurl = 'x'", "unknown source kind 'carrier-pigeon'"),
        ("[[sources]]\nkind = 'feed'", "needs a 'url'"),
        ("[[sources]]\nurl = 'http://a/'\nid='x'\n[[sources]]\nurl = 'http://b/'\nid='x'", "twice"),
        ("[[sources]]\nurl = 'a.xml'\ncolor='red'", "sources[0].'color'"),
        (
            "[[sources]]\nurl = 'htp://example.org/feed'",
            "sources[0].url: 'htp://example.org/feed' is",
        ),
        (
            "[[sources]]\nurl = 'https:///feed.xml'",
            "sources[0].url: 'https:///feed.xml' has no host",
        ),
        ("[[sources]]\nurl = 'feeds/nope.xml'", "sources[0].url: no such file"),
        (
            "[[sources]]\nurl = 'file:///nowhere/x.xml'",
            "sources[0].url: no such file /nowhere/x.xml",
        ),
        ("[[sources]]\nkind = 'files'\npath = 'docs'", "sources[0].path: no such folder"),
        ("[[sources]]\nkind = 'files'\npath = 'http://x/'", "sources[0].path: 'http://x/' is not"),
        ("this is = not toml =", "invalid TOML"),
    ],
)
def test_config_errors_name_the_key_and_the_file(tmp_path: Path, text: str, needle: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert needle in str(info.value)
    assert str(path.resolve()) in str(info.value) or str(path) in str(info.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFS_BRIEF_MAX_STORIES", "4")
    monkeypatch.setenv("BRIEFS_BRIEF_TITLE", "Morning Desk")
    config = load_config(write(tmp_path, "[brief]\nmax_stories = 9"))
    assert config.brief.max_stories == 4
    assert config.brief.title == "Morning Desk"


def test_find_config_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIEFS_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="no configuration found"):
        find_config(None, cwd=tmp_path)
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "briefs.toml").write_text("")
    assert find_config(None, cwd=tmp_path) == tmp_path / "seeds" / "briefs.toml"
    (tmp_path / "briefs.toml").write_text("")
    assert find_config(None, cwd=tmp_path) == tmp_path / "briefs.toml"
    monkeypatch.setenv("BRIEFS_CONFIG", "/elsewhere.toml")
    assert find_config(None, cwd=tmp_path) == Path("/elsewhere.toml")


def test_an_environment_override_error_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "[email]\nrecipients = ['ann@example.org']\n")
    monkeypatch.setenv("BRIEFS_EMAIL_RECIPIENTS", "a,b")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith("$BRIEFS_EMAIL_RECIPIENTS (environment variable; config ")
    assert "email.recipients must be a list of strings, not 'a,b'" in message
    assert "BRIEFS_EMAIL_RECIPIENTS='[" in message  # how to write a list
    monkeypatch.setenv("BRIEFS_EMAIL_RECIPIENTS", '["a@example.org", "b@example.org"]')
    assert load_config(path).email.recipients == ("a@example.org", "b@example.org")
    # checks after parsing (a time zone) blame the variable too
    monkeypatch.setenv("BRIEFS_BRIEF_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigError, match=r"^\$BRIEFS_BRIEF_TIMEZONE .*unknown time zone"):
        load_config(path)
    # the same mistake in the file blames the file
    monkeypatch.delenv("BRIEFS_BRIEF_TIMEZONE")
    bad = write(tmp_path, "[brief]\ntimezone = 'Mars/Olympus'\n")
    with pytest.raises(ConfigError, match=f"^{bad.resolve()}: brief.timezone"):
        load_config(bad)


def test_a_misspelt_environment_override_is_refused_with_the_variable_it_meant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "[email]\nrecipients = ['ann@example.org']\n")
    monkeypatch.setenv("BRIEFS_EMAIL_RECIPIENT", '["bob@example.org"]')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith("$BRIEFS_EMAIL_RECIPIENT (environment variable; config ")
    assert "no such setting in [email]; did you mean $BRIEFS_EMAIL_RECIPIENTS?" in message
    monkeypatch.delenv("BRIEFS_EMAIL_RECIPIENT")
    monkeypatch.setenv("BRIEFS_BRIEF_MAXSTORIES", "4")
    with pytest.raises(ConfigError, match=r"did you mean \$BRIEFS_BRIEF_MAX_STORIES\?"):
        load_config(path)
    monkeypatch.delenv("BRIEFS_BRIEF_MAXSTORIES")
    # nothing close: no guess, still refused
    monkeypatch.setenv("BRIEFS_FETCH_NONSENSE_STUFF", "1")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "no such setting in [fetch] (" in str(info.value)
    monkeypatch.delenv("BRIEFS_FETCH_NONSENSE_STUFF")
    # variables that are not a section's, and the one email.password_env names, are allowed
    monkeypatch.setenv("BRIEFS_SMTP_PASSWORD", "secret")
    monkeypatch.setenv("BRIEFS_SHARED", "/elsewhere")
    monkeypatch.setenv("BRIEFS_EMAIL_PASSWORD", "secret")
    with pytest.raises(
        ConfigError, match=r"^\$BRIEFS_EMAIL_PASSWORD .*did you mean \$BRIEFS_EMAIL_PASSWORD_ENV"
    ):
        load_config(path)
    named = write(tmp_path, "[email]\npassword_env = 'BRIEFS_EMAIL_PASSWORD'\n")
    assert load_config(named).email.password_env == "BRIEFS_EMAIL_PASSWORD"


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("[brief]\nmax_storys = 3", "unknown key brief.'max_storys'; did you mean 'max_stories'?"),
        ("sourcs = []", "unknown key 'sourcs'; did you mean 'sources'?"),
        ("[[sources]]\nurl = 'http://a/'\ntag = ['x']", "sources[0].'tag'; did you mean 'tags'?"),
    ],
)
def test_an_unknown_key_gets_the_closest_known_one(tmp_path: Path, text: str, hint: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    message = str(info.value)
    assert hint in message and message.index(hint) < message.index("(known: ")
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "[brief]\nzzzz = 1"))
    assert "did you mean" not in str(info.value)


# -- numeric bounds (issue 13) -----------------------------------------------------------------


def _numeric_keys() -> list[str]:
    import dataclasses
    import typing

    from briefs.config import SECTIONS

    keys = []
    for name, cls in SECTIONS.items():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if hints[f.name] in (int, float):
                keys.append(f"{name}.{f.name}")
    return [*keys, "sources.interval"]


def test_every_numeric_key_has_bounds_that_hold_its_default_and_the_readme_lists_them() -> None:
    import dataclasses

    from briefs.config import BOUNDS, SECTIONS

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert sorted(BOUNDS) == sorted(_numeric_keys())
    for key, (low, high) in BOUNDS.items():
        section, _, name = key.partition(".")
        if section in SECTIONS:
            fields = {f.name: f for f in dataclasses.fields(SECTIONS[section])}
            f = fields[name]
            default = f.default if f.default_factory is dataclasses.MISSING else f.default_factory()
            assert low <= default <= high, key
        assert f"| `{key}` | {low:g} | {high:g} |" in readme, key


@pytest.mark.parametrize("key", _numeric_keys())
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400", "99999999999999999999999", "-1"])
def test_absurd_numbers_in_file_and_environment_are_one_line_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, value: str
) -> None:
    section, _, name = key.partition(".")
    if section == "sources":
        text = f"[[sources]]\nurl = 'https://news.example.org/a.xml'\n{name} = {value}\n"
    else:
        text = f"[{section}]\n{name} = {value}\n"
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    message = str(info.value)
    assert "\n" not in message and len(message) < 300 and name in message
    if section != "sources":
        monkeypatch.setenv(f"BRIEFS_{section.upper()}_{name.upper()}", value)
        with pytest.raises(ConfigError, match=name):
            load_config(write(tmp_path, ""))


def test_email_max_bytes_zero_or_tiny_is_a_config_error_through_the_cli(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from briefs.cli import cli

    for value in ("0", "500"):
        cfg = write(tmp_path, f"[brief]\nemail_max_bytes = {value}\n")
        result = CliRunner().invoke(cli, ["--config", str(cfg), "build"])
        assert result.exit_code == 1
        assert result.output.startswith("briefs: error: ") and result.output.count("\n") == 1
        assert "brief.email_max_bytes must be at least 10000" in result.output
