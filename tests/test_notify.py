"""Notifications through Apprise against a real receiver: a loopback HTTP server recording what
Apprise's json://, form:// and ntfy:// (pointed at it) deliveries send; one delivery record per
edition, target and kind; 5xx and timeouts retried, 4xx recorded; a sender killed between send
and record; the daemon's own editions; secrets never shown."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefs.cli import cli
from briefs.config import Config, load_config
from briefs.errors import ConfigError, DeliveryError
from briefs.notify import notify_edition
from briefs.pipeline import run
from briefs.store import open_store
from tests.conftest import ROOT, SEEDS

EDITION = "2024-04-06"
# Every target of the demo built once (see ``built``); each test gives the ones it uses a URL.
TARGETS = {
    "json": 'send = ["edition"]',
    "form": 'send = ["edition"]',
    "ntfy": 'send = ["edition"]',
    "breaking": 'send = ["story"]\nmin_outlets = 5',
    "operator": 'send = ["failures"]',
    "flaky": 'send = ["edition"]',
    "refuses": 'send = ["edition"]',
    "slow": 'send = ["edition"]\ntimeout = 1',
    "a-first": 'send = ["edition"]',
    "b-crash": 'send = ["edition"]',
    "c-after": 'send = ["edition"]',
}


def env_name(target: str) -> str:
    return f"BRIEFS_TEST_{target.upper().replace('-', '_')}_URL"


# -- the receiver ---------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, object]:
        value = json.loads(self.body)
        assert isinstance(value, dict)
        return value

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode()))


@dataclass
class Receiver:
    """A loopback HTTP server that records every request and answers as scripted: per path,
    a list of (status, seconds to wait first), used in turn (then 200 at once)."""

    script: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    received: list[Request] = field(default_factory=list)
    on_request: Callable[[Request], None] | None = None

    def __post_init__(self) -> None:
        receiver = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    self.command, self.path, dict(self.headers.items()), self.rfile.read(size)
                )
                with lock:
                    receiver.received.append(request)
                    turns = receiver.script.get(self.path.split("?")[0], [])
                    status, wait = turns.pop(0) if turns else (200, 0.0)
                if receiver.on_request is not None:
                    receiver.on_request(request)
                time.sleep(wait)
                body = b'{"id": "x"}' if status == 200 else b'{"error": "scripted"}'
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up waiting

            do_PUT = do_POST

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]

    def to(self, path: str) -> list[Request]:
        return [r for r in self.received if r.path.split("?")[0] == path]

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}).start()
        return self

    def __exit__(self, *_: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


# -- one demo built with every target --------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with every target of TARGETS and one source that fails, built once."""
    folder = tmp_path_factory.mktemp("notify-demo")
    seeds = folder / "seeds"
    shutil.copytree(SEEDS, seeds, ignore=shutil.ignore_patterns("*.db*"))
    cfg = seeds / "briefs.toml"
    text = cfg.read_text().replace('output = "../output"', f'output = "{folder / "out"}"')
    text += '\n[[sources]]\nid = "gone-gazette"\nurl = "http://127.0.0.1:9/feed.xml"\n'
    for name, extra in TARGETS.items():
        # a failure wrongly taken as temporary is retried at once, not in a minute
        text += f'\n[[notify]]\nname = "{name}"\nurl_env = "{env_name(name)}"\n'
        text += f"retry_delay = 0.05\n{extra}\n"
    cfg.write_text(text)
    run(load_config(cfg), date=dt.date(2024, 4, 6))
    return seeds


@pytest.fixture
def demo(built: Path, tmp_path: Path) -> Config:
    """A private copy of the built demo (its database and its output)."""
    seeds = tmp_path / "seeds"
    shutil.copytree(built, seeds)
    shutil.copytree(built.parent / "out", tmp_path / "out")
    cfg = seeds / "briefs.toml"
    cfg.write_text(cfg.read_text().replace(str(built.parent / "out"), str(tmp_path / "out")))
    return load_config(cfg)


def point(monkeypatch: pytest.MonkeyPatch, receiver: Receiver, **urls: str) -> None:
    """Give targets their URLs (``{port}``: the receiver's) through the environment."""
    for name, url in urls.items():
        monkeypatch.setenv(env_name(name.replace("_", "-")), url.format(port=receiver.port))


def statuses(config: Config, *targets: str) -> dict[str, tuple[str, int]]:
    with open_store(config.database) as store:
        return {
            n.target: (n.status, n.attempts)
            for n in store.notifications(EDITION)
            if n.target in targets
        }


# -- what arrives ----------------------------------------------------------------------------


def test_json_form_and_ntfy_receive_the_edition_once(
    demo: Config, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    point(
        monkeypatch,
        receiver,
        json="json://127.0.0.1:{port}/json",
        form="form://127.0.0.1:{port}/form",
        ntfy="ntfy://127.0.0.1:{port}/briefs-demo",
    )
    with open_store(demo.database) as store:
        # built by hand: held until `briefs notify` (or the daemon, for its own editions)
        assert {n.status for n in store.notifications(EDITION)} == {"held"}
        report = notify_edition(demo, store, EDITION, targets=["json", "form", "ntfy"])
    assert sorted(report.sent) == [f"{EDITION} to {t} (edition)" for t in ("form", "json", "ntfy")]
    assert report.ok

    [sent] = receiver.to("/json")
    payload = sent.json()
    assert payload["title"] == "The Demo Brief: Saturday, 6 April 2024"
    message = str(payload["message"])
    lines = message.split("\n")
    # the top 5 headlines in rank order, their breadth, then the link to the edition
    assert len([line for line in lines if line[:2] in {f"{i}." for i in range(1, 6)}]) == 5
    assert lines[0].startswith("1. US and China agree") and "(5 outlets)" in lines[0]
    assert lines[-1] == "Read the edition: http://localhost:8080/2024-04-06.html"
    assert "**" not in message and "](<" not in message  # JSON webhooks get plain text

    [form] = receiver.to("/form")
    assert form.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form.form()["title"] == payload["title"] and form.form()["message"] == message

    [ntfy] = receiver.to("/")
    body = ntfy.json()
    assert body["topic"] == "briefs-demo" and body["message"] == message
    assert "X-Icon" not in ntfy.headers  # no image URL points the receiver anywhere

    # run again: every target has it, nothing is sent twice
    with open_store(demo.database) as store:
        again = notify_edition(demo, store, EDITION, targets=["json", "form", "ntfy"])
    assert again.sent == () and len(again.already_sent) == 3
    assert len(receiver.received) == 3


def test_ntfy_in_markdown_gets_the_markdown_body_and_its_header(
    demo: Config, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    point(monkeypatch, receiver, ntfy="ntfy://127.0.0.1:{port}/briefs-demo?format=markdown")
    with open_store(demo.database) as store:
        assert notify_edition(demo, store, EDITION, targets=["ntfy"]).ok
    [sent] = receiver.received
    assert sent.headers.get("X-Markdown") == "yes"
    message = str(sent.json()["message"])
    assert message.startswith("1. [US and China agree")
    assert "(<http://localhost:8080/2024-04-06.html#story-" in message
    assert message.endswith("[Read the edition](<http://localhost:8080/2024-04-06.html>)")


def test_breaking_stories_each_pushed_once_and_failing_sources_told_to_the_operator(
    demo: Config, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    point(
        monkeypatch,
        receiver,
        breaking="json://127.0.0.1:{port}/breaking",
        operator="json://127.0.0.1:{port}/operator",
    )
    with open_store(demo.database) as store:
        report = notify_edition(demo, store, EDITION, targets=["breaking", "operator"])
    assert report.ok
    stories = [r.json() for r in receiver.to("/breaking")]
    # min_outlets = 5: the two stories five or more outlets reported, each on its own
    assert sorted(str(s["title"]) for s in stories) == [
        "Flood damage in Calder Bay estimated at $85 million",
        "US and China agree to 'intensive exchanges' on balanced growth after Guangzhou talks",
    ]
    for story in stories:
        lines = str(story["message"]).split("\n")
        assert lines[-1].startswith("http://localhost:8080/2024-04-06.html#story-")
        assert lines[-2].startswith(("Reported by 5 outlets: ", "Reported by 6 outlets: "))
    [failures] = receiver.to("/operator")
    assert failures.json()["title"] == "The Demo Brief: 1 source started failing"
    assert "- gone-gazette: " in str(failures.json()["message"])

    # the next edition: the same source still failing is not news; a pushed story is not
    # pushed again (the store keeps one per target and story, whatever the edition)
    from briefs.pipeline import build

    build(demo, date=dt.date(2024, 4, 7))
    with open_store(demo.database) as store:
        later = [
            n for n in store.notifications("2024-04-07") if n.target in ("breaking", "operator")
        ]
        pushed = {n.item for n in store.notifications(EDITION) if n.target == "breaking"}
    assert not [n for n in later if n.kind == "failures"]
    assert not [n for n in later if n.item in pushed]


# -- failures --------------------------------------------------------------------------------


def test_a_500_then_200_is_retried_with_backoff_and_sent_once(
    demo: Config, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    point(monkeypatch, receiver, flaky="json://127.0.0.1:{port}/flaky")
    receiver.script["/flaky"] = [(500, 0.0), (503, 0.0)]
    with open_store(demo.database) as store:
        start = time.monotonic()
        report = notify_edition(demo, store, EDITION, targets=["flaky"])
        waited = time.monotonic() - start
    assert report.ok and report.sent == (f"{EDITION} to flaky (edition)",)
    assert len(receiver.to("/flaky")) == 3
    assert statuses(demo, "flaky") == {"flaky": ("sent", 3)}
    assert waited >= 0.05 + 0.1  # retry_delay, then twice that


def test_a_400_is_recorded_as_failed_and_not_retried(
    demo: Config, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    point(monkeypatch, receiver, refuses="json://127.0.0.1:{port}/refuses")
    receiver.script["/refuses"] = [(400, 0.0)] * 5
    result = CliRunner().invoke(
        cli, ["--config", str(demo.path), "notify", "--target", "refuses"], catch_exceptions=False
    )
    assert result.exit_code == 1
    assert "0 notification(s) sent, 0 already sent, 1 failed" in result.output
    assert "failed: 2024-04-06 to refuses (edition): refuses: " in result.output
    assert "error=400" in result.output
    assert len(receiver.to("/refuses")) == 1
    assert statuses(demo, "refuses") == {"refuses": ("failed", 1)}
    # a later run does not try it again; --resend does
    result = CliRunner().invoke(cli, ["--config", str(demo.path), "notify", "--target", "refuses"])
    assert len(receiver.to("/refuses")) == 1
    receiver.script["/refuses"] = []
    result = CliRunner().invoke(
        cli, ["--config", str(demo.path), "notify", "--target", "refuses", "--resend"]
    )
    assert result.exit_code == 0 and "1 notification(s) sent" in result.output


def test_a_target_that_times_out_is_retried(
    demo: Config, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    point(monkeypatch, receiver, slow="json://127.0.0.1:{port}/slow")
    receiver.script["/slow"] = [(200, 3.0)]  # answers after the target's 1 s timeout
    with open_store(demo.database) as store:
        start = time.monotonic()
        first = notify_edition(demo, store, EDITION, targets=["slow"], wait=False)
        took = time.monotonic() - start
        assert first.pending and first.sent == ()
        [(label, error)] = first.pending
        assert label == f"{EDITION} to slow (edition)" and "slow: " in error
        assert took < 2.9  # given up at the timeout, not when the answer came
        [row] = [n for n in store.notifications(EDITION) if n.target == "slow"]
        assert row.status == "pending" and row.attempts == 1 and row.next_attempt is not None
        second = notify_edition(demo, store, EDITION, targets=["slow"])
    assert second.sent == (label,)
    assert statuses(demo, "slow") == {"slow": ("sent", 2)}


def test_an_unreachable_target_is_retried_until_it_gives_up(
    demo: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(env_name("flaky"), "json://127.0.0.1:9/closed")
    with open_store(demo.database) as store:
        report = notify_edition(demo, store, EDITION, targets=["flaky"])
    [(_, error)] = report.failed
    assert error.startswith("gave up after 5 attempts: flaky: A Connection error occurred")
    assert statuses(demo, "flaky") == {"flaky": ("failed", 5)}


# -- a crash between send and record ---------------------------------------------------------


def test_a_sender_killed_between_send_and_record_resumes_and_nobody_gets_it_twice(
    demo: Config, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    point(
        monkeypatch,
        receiver,
        a_first="json://127.0.0.1:{port}/a",
        b_crash="json://127.0.0.1:{port}/b",
        c_after="json://127.0.0.1:{port}/c",
    )
    victim: list[subprocess.Popen[bytes]] = []

    def kill_at_b(request: Request) -> None:
        # b's service has the notification; the sender dies before it hears back
        if request.path == "/b":
            os.kill(victim[0].pid, signal.SIGKILL)
            victim[0].wait(timeout=30)

    receiver.on_request = kill_at_b
    names = ["--target", "a-first", "--target", "b-crash", "--target", "c-after"]
    command = [sys.executable, "-m", "briefs", "--config", str(demo.path), "notify", *names]
    victim.append(subprocess.Popen(command, cwd=ROOT, env=os.environ.copy()))
    assert victim[0].wait(timeout=120) == -signal.SIGKILL
    assert [r.path for r in receiver.received] == ["/a", "/b"]
    assert statuses(demo, "a-first", "b-crash", "c-after") == {
        "a-first": ("sent", 1),
        "b-crash": ("sending", 1),
        "c-after": ("pending", 0),
    }

    receiver.on_request = None
    result = CliRunner().invoke(cli, ["--config", str(demo.path), "notify", *names])
    assert result.exit_code == 1  # one is uncertain
    assert "1 notification(s) sent, 1 already sent, 0 failed, 0 to retry, 1 uncertain" in (
        result.output
    )
    assert "uncertain: 2024-04-06 to b-crash (edition)" in result.output
    assert [r.path for r in receiver.received] == ["/a", "/b", "/c"]
    # it is the operator's call to send it again
    result = CliRunner().invoke(
        cli, ["--config", str(demo.path), "notify", "--target", "b-crash", "--resend"]
    )
    assert result.exit_code == 0
    assert [r.path for r in receiver.received] == ["/a", "/b", "/c", "/b"]


# -- secrets ---------------------------------------------------------------------------------


def test_the_url_from_the_environment_is_never_shown(
    demo: Config,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "tk_9f8e7d6c5b4a"
    point(
        monkeypatch, receiver, refuses="json://hook:pw-" + secret + "@127.0.0.1:{port}/r/" + secret
    )
    receiver.script["/r/" + secret] = [(400, 0.0)]
    runner = CliRunner()
    listed = runner.invoke(cli, ["--config", str(demo.path), "notify", "--list"])
    assert listed.exit_code == 0 and "refuses" in listed.output and "JSON: json://" in listed.output
    sent = runner.invoke(cli, ["--config", str(demo.path), "-v", "notify", "--target", "refuses"])
    assert sent.exit_code == 1 and "error=400" in sent.output
    [request] = receiver.received
    assert request.headers["Authorization"].startswith("Basic ")  # the secrets were used
    with open_store(demo.database) as store:
        errors = " ".join(n.error or "" for n in store.notifications())
    # ntfy names the topic it could not reach; the topic is the secret
    topic = "desk-4c1d8e7f0a2b"
    point(monkeypatch, receiver, ntfy="ntfy://127.0.0.1:{port}/" + topic)
    receiver.script["/"] = [(400, 0.0)]
    # what reaches the root logger's handlers (the CLI's, the journal's); pytest's own capture
    # attaches itself to every logger, so it is not what a user's log shows
    logged: list[str] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: logged.append(record.getMessage())  # type: ignore[method-assign]
    root = logging.getLogger()
    root.addHandler(handler)
    level, root.level = root.level, logging.DEBUG
    try:
        with open_store(demo.database) as store:
            [(_, error)] = notify_edition(demo, store, EDITION, targets=["ntfy"]).failed
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert any("to ntfy (edition)" in line for line in logged)  # ours are there
    assert "Failed to send ntfy notification to topic '***'" in error
    with open_store(demo.database) as store:
        errors += " ".join(n.error or "" for n in store.notifications())
    for shown in (listed.output, sent.output, errors, demo.path.read_text(), "\n".join(logged)):
        assert secret not in shown and topic not in shown


def test_a_missing_url_leaves_the_target_pending_and_the_others_go_on(
    demo: Config, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    point(monkeypatch, receiver, json="json://127.0.0.1:{port}/json")
    monkeypatch.delenv(env_name("form"), raising=False)
    monkeypatch.setenv(env_name("ntfy"), "nosuchservice://x")
    with open_store(demo.database) as store:
        report = notify_edition(demo, store, EDITION, targets=["json", "form", "ntfy"])
    assert report.sent == (f"{EDITION} to json (edition)",)
    pending = dict(report.pending)
    assert f"${env_name('form')} is empty" in pending[f"{EDITION} to form (edition)"]
    assert "not a URL Apprise can use (nosuchservice://" in pending[f"{EDITION} to ntfy (edition)"]
    assert statuses(demo, "form", "ntfy") == {"form": ("pending", 0), "ntfy": ("pending", 0)}
    with (
        pytest.raises(DeliveryError, match="no \\[\\[notify\\]\\] target named 'nobody'"),
        open_store(demo.database) as store,
    ):
        notify_edition(demo, store, EDITION, targets=["nobody"])


def test_apprise_reads_no_plugin_or_config_from_home(
    demo: Config, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    marker = tmp_path / "loaded"
    plugin = f"open({str(marker)!r}, 'w').write('loaded')\n"
    for folder in (".apprise/plugins", ".config/apprise/plugins"):
        (home / folder).mkdir(parents=True)
        (home / folder / "spy.py").write_text(plugin)
    (home / ".config/apprise/apprise.yml").write_text("urls:\n  - json://127.0.0.1:9/spy\n")
    (home / ".apprise.yml").write_text("urls:\n  - json://127.0.0.1:9/spy\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    point(monkeypatch, receiver, json="json://127.0.0.1:{port}/json")
    command = [
        sys.executable,
        "-m",
        "briefs",
        "--config",
        str(demo.path),
        "notify",
        "--target",
        "json",
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=os.environ.copy(), capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert [r.path for r in receiver.received] == ["/json"]
    assert not marker.exists()


# -- the daemon ------------------------------------------------------------------------------


def test_the_daemon_notifies_its_own_editions_not_those_built_by_hand(
    seeds_copy: Path, tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from briefs.schedule import Daemon

    cfg = seeds_copy / "briefs.toml"
    text = cfg.read_text().replace('output = "../output"', f'output = "{tmp_path / "out"}"')
    text += '\n[schedule]\neditions = ["30 6 * * *"]\n'
    text += '\n[[notify]]\nname = "json"\nurl_env = "BRIEFS_TEST_JSON_URL"\n'
    cfg.write_text(text)
    monkeypatch.setenv("BRIEFS_TEST_JSON_URL", f"json://127.0.0.1:{receiver.port}/daemon")
    config = load_config(cfg)
    clock = [dt.datetime(2024, 4, 6, 5, 31, tzinfo=dt.UTC)]  # 06:31 in London
    daemon = Daemon(config, clock=lambda: clock[0])
    [job] = daemon.jobs
    built = daemon.build_due(job)
    assert built is not None and built.id == EDITION
    assert daemon.notify_due().sent == (f"{EDITION} to json (edition)",)
    assert daemon.notify_due().sent == ()  # once
    # an edition built by hand (a day later) waits for `briefs notify`
    run(config, date=dt.date(2024, 4, 7))
    clock[0] = dt.datetime(2024, 4, 7, 9, tzinfo=dt.UTC)
    assert daemon.notify_due().sent == ()
    daemon.close()
    assert len(receiver.to("/daemon")) == 1
    with open_store(config.database) as store:
        assert [n.status for n in store.notifications("2024-04-07")] == ["held"]


# -- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ('url = "json://h/x"\nurl_env = "X"', "needs one of 'url_env'"),
        ("send = []", "needs one of 'url_env'"),
        ('url_env = "X"\nsend = ["everything"]', "send: each of edition, story, failures"),
        ('url_env = "X"\nformat = "html"', 'format must be "auto", "markdown" or "text"'),
        ('url_env = "1X"', "is not a variable name"),
        ('url_env = "X"\nmin_outlets = 0', "min_outlets must be between 1 and 1000"),
        ('url_env = "X"\ntimeout = "soon"', "timeout must be a number"),
        ('url_env = "X"\nname = "Phone!"', "lowercase letters, digits"),
        ('url_env = "X"\nrecipient = "me"', "unknown key notify[0].'recipient'"),
        ('url = "not a url"', "is not an Apprise URL"),
        ('url = "json://user:hunter22@example.org/hook"', "password written in the file"),
    ],
)
def test_notify_tables_are_checked(tmp_path: Path, table: str, needle: str) -> None:
    path = tmp_path / "briefs.toml"
    path.write_text(f"[[notify]]\n{table}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert needle in str(info.value) and str(path) in str(info.value)
    assert "hunter22" not in str(info.value)


def test_notify_defaults_and_placeholders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from briefs.notify.channel import target_url

    path = tmp_path / "briefs.toml"
    path.write_text(
        '[[notify]]\nurl = "ntfys://ntfy.example/${BRIEFS_TOPIC}?priority=high"\n'
        '[[notify]]\nname = "ops"\nurl = "json://ops:${OPS_PASSWORD}@ops.example/hook"\n'
        'send = ["failures"]\n'
    )
    first, ops = load_config(path).notify
    assert (first.name, first.send, first.headlines, first.min_outlets) == (
        "notify-1",
        ("edition",),
        5,
        3,
    )
    assert ops.send == ("failures",)
    with pytest.raises(DeliveryError, match=r"url needs \$BRIEFS_TOPIC, which is empty"):
        target_url(first)
    monkeypatch.setenv("BRIEFS_TOPIC", "s3cret-topic")
    monkeypatch.setenv("OPS_PASSWORD", "pa55word")
    assert target_url(first) == (
        "ntfys://ntfy.example/s3cret-topic?priority=high",
        ("s3cret-topic",),
    )
    assert target_url(ops)[0] == "json://ops:pa55word@ops.example/hook"


def test_the_notifications_step_upgrades_an_older_database_and_can_run_twice(
    tmp_path: Path,
) -> None:
    from briefs.store import SCHEMA_VERSION
    from briefs.store.migrations import MIGRATIONS
    from tests.rawdb import raw_sqlite

    path = tmp_path / "old.db"
    open_store(str(path)).close()
    with raw_sqlite(path) as conn:
        conn.execute("DROP TABLE notifications")
        # step 14 adds the notifications table (later steps must not need it gone)
        conn.execute("UPDATE meta SET value = '14' WHERE key = 'schema_version'")
    with open_store(str(path)) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.notifications() == []
        with store.engine.begin() as conn:
            MIGRATIONS[14](conn)  # again: nothing to do, no error
        assert store.notifications() == []


def test_a_story_is_pushed_once_per_target_whichever_edition_holds_it(tmp_path: Path) -> None:
    from briefs.models import Notification

    now = dt.datetime(2024, 4, 6, 7, tzinfo=dt.UTC)

    def story(edition: str, target: str = "phone") -> Notification:
        return Notification(edition, target, "story", "s1", "Floods", "md", "text", created=now)

    with open_store(str(tmp_path / "b.db")) as store:
        # two editions built by hand, both holding the story
        assert store.hold_notifications("2024-04-06", [story("2024-04-06")]) == 1
        assert store.hold_notifications("2024-04-07", [story("2024-04-07")]) == 1
        assert store.release_notifications("2024-04-06") == 1
        key = ("2024-04-06", "phone", "story", "s1")
        assert store.claim_notification(key, now) == 1
        store.finish_notification(key, "sent", sent_at=now)
        # the second edition's copy is dropped when it is released; another target keeps its own
        assert store.release_notifications("2024-04-07") == 0
        assert (
            store.hold_notifications(
                "2024-04-08", [story("2024-04-08"), story("2024-04-08", "ops")]
            )
            == 1
        )
        assert sorted((n.edition_id, n.target, n.status) for n in store.notifications()) == [
            ("2024-04-06", "phone", "sent"),
            ("2024-04-08", "ops", "held"),
        ]
