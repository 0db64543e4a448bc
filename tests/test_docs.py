"""Every `briefs ...` example of the README and of `--help` is a tested one.

Each example is run, in the order the README gives them, against a copy of the demo (as
sqlite-utils tests its documentation); the few that need the internet, run forever or read the
shared evaluation data have their options checked against the command instead (a mistyped
option, such as one the command does not take, fails either way).
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from briefs.cli import cli
from tests.conftest import ROOT, SEEDS
from tests.servers import SmtpServer

README = ROOT / "README.md"
# A placeholder in a synopsis: FILE, ID, URL, FILE.opml, YYYY-MM-DD, [--date D], a|b, ...
_PLACEHOLDER = re.compile(r"[A-Z][A-Z0-9_]*(\.\w+)?|YYYY-MM-DD.*|.*[\[\]|…].*|\.\.\.")
# Commands that are not run here: long-running servers, and those needing the internet or the
# shared evaluation data (their own tests run them); their options are checked instead.
_NOT_RUN = {"daemon", "serve", "eval"}


def _commands(text: str) -> list[str]:
    """Example command lines in ``text``, in order: inline `briefs ...` and shell code lines."""
    found: list[str] = []
    pattern = r"```(?:sh|shell|console)\n(.*?)```|`(briefs [^`\n]+)`"
    for match in re.finditer(pattern, text, re.S):
        if match.group(2):
            found.append(match.group(2))
            continue
        block = match.group(1).replace("\\\n", " ")  # continued lines
        found += [line.split(" #")[0].strip() for line in block.splitlines()]
    return _examples(found)


def _examples(lines: list[str]) -> list[str]:
    """The lines that are briefs commands (not synopses), without VARIABLE=value, once each."""
    out: list[str] = []
    for line in lines:
        words = shlex.split(line) if "briefs" in line else []
        while words and re.match(r"^[A-Z_]+=", words[0]):
            words = words[1:]  # VARIABLE=value before the command
        if len(words) < 2 or words[0] != "briefs":
            continue
        if any(_PLACEHOLDER.fullmatch(w) for w in words[1:]):
            continue  # a synopsis, not an example
        command = shlex.join(words)
        if command not in out:
            out.append(command)
    return out


def _help_examples(group: click.Group, prefix: tuple[str, ...] = ()) -> list[str]:
    """The example lines under "Example:" in every command's help."""
    out: list[str] = []
    for name, command in group.commands.items():
        lines = (command.help or "").splitlines()
        if "Example:" in [line.strip() for line in lines]:
            start = [line.strip() for line in lines].index("Example:") + 1
            out += _examples([line.strip() for line in lines[start:]])
        if isinstance(command, click.Group):
            out += _help_examples(command, (*prefix, name))
    return out


def _resolve(words: list[str]) -> tuple[tuple[str, ...], list[click.Command]]:
    """The command path of an example and the commands along it (the group first)."""
    path: list[str] = []
    chain: list[click.Command] = [cli]
    for word in words[1:]:
        current = chain[-1]
        if word.startswith("-") or not isinstance(current, click.Group):
            continue
        sub = current.commands.get(word)
        if sub is None:
            continue  # an option's value
        path.append(word)
        chain.append(sub)
    return tuple(path), chain


def _check_options(command: str) -> None:
    """Every option of the example is one its command (or a group before it) takes."""
    words = shlex.split(command)
    path, chain = _resolve(words)
    assert path, f"{command}: names no command"
    assert not isinstance(chain[-1], click.Group), f"{command}: names a group, not a command"
    known = {opt for cmd in chain for p in cmd.params for opt in getattr(p, "opts", [])}
    for word in words[1:]:
        if word.startswith("-") and word != "-":
            assert word.split("=")[0] in known, f"{command}: no such option {word}"


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder like a user's: the demo in seeds/, briefs.toml using the same database."""
    ws = tmp_path / "ws"
    shutil.copytree(SEEDS, ws / "seeds", ignore=shutil.ignore_patterns("*.db*"))
    text = (SEEDS / "briefs.toml").read_text(encoding="utf-8")
    text = text.replace('"feeds/', '"seeds/feeds/').replace('path = "docs"', 'path = "seeds/docs"')
    text = text.replace('database = "briefs.db"', 'database = "seeds/briefs.db"')
    (ws / "briefs.toml").write_text(text.replace('output = "../output"', 'output = "output"'))
    (ws / "subscriptions.opml").write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>'
        '<outline text="Local" xmlUrl="http://127.0.0.1:9/feed.xml"/></body></opml>'
    )
    monkeypatch.chdir(ws)
    monkeypatch.delenv("BRIEFS_CONFIG", raising=False)
    return ws


def _leaves(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The command paths of every command that is not a group, at any depth."""
    out: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            out += _leaves(command, (*prefix, name))
        else:
            out.append((*prefix, name))
    return out


def _commands_without_example(group: click.Group, readme: str) -> list[str]:
    """The commands of which ``readme`` runs no example."""
    named = {_resolve(shlex.split(e))[0] for e in _commands(readme)}
    return sorted(" ".join(path) for path in _leaves(group) if path not in named)


def _config_keys() -> list[str]:
    """Every key a config file may hold: top-level, ``section.key``, ``notify.key`` and
    ``sources.key``."""
    import dataclasses

    from briefs.config import SECTIONS
    from briefs.config.notify import NOTIFY_KEYS
    from briefs.config.settings import TOP_KEYS
    from briefs.config.sources import SOURCE_KEYS

    tables = ("sources", "briefs", "notify")
    keys = [k for k in sorted(TOP_KEYS) if k not in SECTIONS and k not in tables]
    keys += [f"{s}.{f.name}" for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)]
    keys += [f"sources.{k}" for k in sorted(SOURCE_KEYS)]
    keys += [f"notify.{k}" for k in sorted(NOTIFY_KEYS)]
    # a [[briefs]] table's own keys (the rest are [brief]'s, shown there)
    return keys + [
        f"briefs.{k}" for k in ("id", "tags", "sources", "schedule", "recipients", "output")
    ]


def _keys_without_example(readme: str) -> list[str]:
    """The config keys the README's example configuration (its first ```toml block under
    "## Configuration") does not set, in its table, to an example value (commented out or not).
    """
    section = readme.split("\n## Configuration\n", 1)[1]
    block = section.split("```toml\n", 1)[1].split("```", 1)[0]
    shown: set[str] = set()
    table = ""
    for line in block.splitlines():
        line = line.strip().removeprefix("#").strip()
        header = re.match(r"^\[\[?\s*(\w+)\s*\]\]?", line)
        if header:
            table = header.group(1)
        elif key := re.match(r"^(\w+)\s*=\s*\S", line):
            shown.add(f"{table}.{key.group(1)}" if table else key.group(1))
    return [key for key in _config_keys() if key not in shown]


def test_the_readme_has_examples_of_every_command() -> None:
    missing = _commands_without_example(cli, README.read_text(encoding="utf-8"))
    assert not missing, f"README has no example of: {missing}"

    # every command's --help has one too (sqlite-utils' rule), groups included
    def walk(group: click.Group) -> list[click.Command]:
        subs = list(group.commands.values())
        return subs + [c for s in subs if isinstance(s, click.Group) for c in walk(s)]

    for command in walk(cli):
        assert "Example:" in (command.help or ""), f"{command.name}: no example in its --help"


def test_the_readme_shows_every_config_key_with_an_example() -> None:
    missing = _keys_without_example(README.read_text(encoding="utf-8"))
    assert not missing, f"README's example configuration does not show: {missing}"


def test_a_command_or_key_the_readme_does_not_show_fails_the_docs_tests() -> None:
    """The two checks above can fail: a new command, or a key dropped from the example."""
    readme = README.read_text(encoding="utf-8")

    @click.group()
    def extra() -> None:
        """A copy of the CLI with one command more."""

    extra.commands = {**cli.commands, "frobnicate": click.Command("frobnicate")}
    assert _commands_without_example(extra, readme) == ["frobnicate"]
    assert _commands_without_example(cli, readme) == []
    trimmed = readme.replace("\nmax_per_outlet = 4 ", "\n")
    assert trimmed != readme
    assert _keys_without_example(trimmed) == ["brief.max_per_outlet"]
    assert "sources.enabled" in _config_keys() and "fetch.parse_timeout" in _config_keys()


@pytest.mark.slow
@pytest.mark.parametrize("source", ["readme", "help"])
def test_every_example_works_on_the_demo(
    source: str, demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if source == "readme":
        examples = _commands(README.read_text(encoding="utf-8"))
    else:
        examples = _help_examples(cli)
    assert len(examples) > 10
    runner = CliRunner()
    with SmtpServer() as smtp:
        monkeypatch.setenv("BRIEFS_EMAIL_HOST", "127.0.0.1")
        monkeypatch.setenv("BRIEFS_EMAIL_PORT", str(smtp.port))
        monkeypatch.setenv("BRIEFS_EMAIL_SECURITY", "none")
        monkeypatch.setenv("BRIEFS_EMAIL_SENDER", "briefs@example.org")
        monkeypatch.setenv("BRIEFS_EMAIL_RECIPIENTS", '["reader@example.org"]')
        # the first examples build the demo; the rest need an edition to exist
        first = runner.invoke(cli, ["--config", "seeds/briefs.toml", "run", "--date", "2024-04-06"])
        assert first.exit_code == 0, first.output
        for command in examples:
            _check_options(command)
            words = shlex.split(command)
            path, _ = _resolve(words)
            if path[0] in _NOT_RUN or ("://" in command and "add" in path):
                continue
            result = runner.invoke(cli, words[1:])
            assert result.exit_code == 0, f"{command}\n{result.output}"
        assert smtp.inbox.to("me@example.org") or source == "help"


def test_global_options_work_after_the_command(seeds_copy: Path, tmp_path: Path) -> None:
    config = str(seeds_copy / "briefs.toml")
    runner = CliRunner()
    result = runner.invoke(cli, ["sources", "list", "--json", "--config", config])
    assert result.exit_code == 0 and '"harbour-herald"' in result.output
    # the option after the command wins over $BRIEFS_CONFIG and the one before it
    missing = str(tmp_path / "nope.toml")
    result = runner.invoke(cli, ["--config", config, "build", "--config", missing])
    assert result.exit_code == 1 and "nope.toml: configuration file not found" in result.output
    # --debug after the command: the traceback (the exception) instead of one line
    result = runner.invoke(cli, ["build", "--config", missing, "--debug"])
    assert type(result.exception).__name__ == "ConfigError"
    result = runner.invoke(cli, ["sources", "enable", "nobody", "-c", config])
    assert result.exit_code == 1 and "no source with id 'nobody'" in result.output
