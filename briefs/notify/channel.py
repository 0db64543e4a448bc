"""The notification channel: one target's Apprise service, behind the shape of a transport.

A :class:`Channel` is what :class:`briefs.transport.Transport` is for email, one notification
at a time: :meth:`~Channel.connect` (resolve the URL from the environment, make the service),
:meth:`~Channel.send`, :meth:`~Channel.close`. :class:`AppriseChannel` classifies what the
service answered, as :class:`briefs.transport.SmtpTransport` classifies SMTP replies:

- a 4xx answer (but 408, 425 and 429) is :class:`PermanentDeliveryError`: recorded as failed;
- a 5xx answer, a timeout, a refused or dropped connection is
  :class:`TransientDeliveryError`: retried with backoff;
- a URL that is missing, unset in the environment or not one Apprise knows is a plain
  :class:`DeliveryError` for every notification of the target.

Apprise reports each service's outcome with the log lines of its attempt; the HTTP status is
read from them (``error=NNN``, as its plugins write it). Apprise is kept to itself: no plugin
folders are scanned, no configuration file is read (only URLs are given to it), persistent
storage stays in memory, no icon URL is sent, and no retry of its own is made (ours are
recorded).

Secrets never leave: every text that comes from Apprise, and the URL shown for a target,
passes :meth:`AppriseChannel.redact`, which replaces each value read from the environment
(and the parts of a URL read whole from it) by ``***``.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from briefs.config import NotifySettings
from briefs.config.notify import PLACEHOLDER
from briefs.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from briefs.models import Notification
from briefs.notify.compose import fit_body, fit_title

__all__ = ["AppriseChannel", "Channel", "target_url"]

_STATUS = re.compile(r"error=(\d{3})")
# 4xx answers that mean "later", not "never"
_RETRY_4XX = {408, 425, 429}
# Converting Markdown to HTML about doubles its length; the body is cut to leave room.
_HTML_SHARE = 0.5


class Channel(Protocol):
    """One target's notification channel (``records``: whether what it sends is recorded)."""

    records: bool

    def connect(self) -> None:
        """Make the service (DeliveryError when the target cannot be used at all)."""

    def send(self, notification: Notification) -> None:
        """Send one notification (a DeliveryError subclass when it fails)."""

    def close(self) -> None:
        """Let the service go (never raises)."""


def target_url(target: NotifySettings) -> tuple[str, tuple[str, ...]]:
    """The target's Apprise URL from the environment, and the secret values in it."""
    if target.url_env:
        value = os.environ.get(target.url_env, "").strip()
        if not value:
            raise DeliveryError(
                f"notify {target.name}: ${target.url_env} is empty: put the Apprise URL in "
                "that environment variable (never in the file)",
                recipient=target.name,
            )
        return value, _url_parts(value)
    secrets: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        value = os.environ.get(name, "")
        if not value:
            raise DeliveryError(
                f"notify {target.name}: url needs ${name}, which is empty: set it in the "
                "environment",
                recipient=target.name,
            )
        secrets.append(value)
        return value

    return PLACEHOLDER.sub(substitute, target.url), tuple(secrets)


def _url_parts(url: str) -> tuple[str, ...]:
    """A URL read whole from the environment and the parts of it that may be secret on their
    own: user, password, path segments, query values (the host is not)."""
    parts = [url]
    try:
        split = urlsplit(url)
        parts += [split.username or "", split.password or ""]
        parts += [segment for segment in split.path.split("/") if len(segment) >= 4]
        # query values as long as a token (not "markdown" or "high")
        parts += [v for _, v in parse_qsl(split.query) if len(v) >= 12]
    except ValueError:
        pass
    return tuple(p for p in parts if len(p) >= 4)


class AppriseChannel:
    """A target's Apprise service. Use :meth:`connect` first; :attr:`shown` names it safely."""

    records = True

    def __init__(self, target: NotifySettings) -> None:
        self.target = target
        self._secrets: tuple[str, ...] = ()
        self._apprise: Any = None
        self._service: Any = None

    def redact(self, text: str) -> str:
        """``text`` with every secret of the target's URL replaced by ``***``."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    @property
    def shown(self) -> str:
        """The service and its URL as it may be shown (Apprise's privacy form, redacted)."""
        if self._service is None:
            if self.target.url_env:
                return f"${self.target.url_env}"
            return self.target.url
        return f"{self._service.service_name}: {self.redact(self._service.url(privacy=True))}"

    def connect(self) -> None:
        """Resolve the URL and make the service (DeliveryError: the target is unusable)."""
        import apprise

        # Apprise's own log lines can name a secret (ntfy names the topic it failed to reach):
        # they stay in its per-call capture, read back redacted (see send), not in our logs.
        logging.getLogger("apprise").propagate = False
        url, self._secrets = target_url(self.target)
        timeout = self.target.timeout
        asset = apprise.AppriseAsset(
            plugin_paths=[],
            storage_mode="memory",
            # Apprise's own limit for one service stays above the socket timeouts: a slow
            # target is a timeout of the request (retried), not a thread left running.
            service_timeout=timeout * 2 + 5,
            # no icon URLs in what is sent: a receiver is never pointed at Apprise's images
            image_url_mask="",
            image_url_logo="",
        )
        service = apprise.Apprise.instantiate(url, asset=asset)
        if service is None:
            scheme = url.partition("://")[0]
            raise DeliveryError(
                f"notify {self.target.name}: not a URL Apprise can use "
                f"({scheme}://...; see Apprise's list of services)",
                recipient=self.target.name,
            )
        service.socket_connect_timeout = timeout
        service.socket_read_timeout = timeout
        self._apprise = apprise.Apprise(asset=asset)
        self._apprise.add(service)
        self._service = service

    def body_of(self, notification: Notification) -> tuple[str, str, str]:
        """(title, body, format) as this service takes them, cut to its size."""
        from apprise import NotifyFormat

        service = self._service
        wanted = self.target.format
        native = service.notify_format
        if isinstance(native, tuple):  # a service that takes several: its first, its default
            native = native[0]
        markdown = wanted == "markdown" or (wanted == "auto" and native != NotifyFormat.TEXT)
        body = notification.markdown if markdown else notification.text
        title = fit_title(notification.title, service.title_maxlen)
        limit = int(service.body_maxlen)
        if service.title_maxlen <= 0 or service.overflow_amalgamate_title:
            limit -= len(title) + 2
        if markdown and native == NotifyFormat.HTML:
            limit = int(limit * _HTML_SHARE)
        fmt = NotifyFormat.MARKDOWN if markdown else NotifyFormat.TEXT
        return title, fit_body(body, max(limit, 1)), fmt.value

    def send(self, notification: Notification) -> None:
        """Send one notification; classify a failure (see the module's docstring)."""
        if self._apprise is None:
            self.connect()
        title, body, fmt = self.body_of(notification)
        result = self._apprise.notify(body=body, title=title, body_format=fmt)
        if result:
            return
        lines = [entry.message for service in result for entry in service.logs()]
        lines += [entry.message for entry in result.call_logs()]
        said = self.redact(" ".join(line.strip() for line in lines[-3:]))[:400]
        codes = [int(m.group(1)) for line in lines for m in _STATUS.finditer(line)]
        timed_out = str(getattr(result.status, "name", "")) == "TIMEOUT"
        message = f"{self.target.name}: {said or 'not delivered'}"
        if codes and 400 <= codes[-1] < 500 and codes[-1] not in _RETRY_4XX and not timed_out:
            raise PermanentDeliveryError(message, recipient=self.target.name)
        raise TransientDeliveryError(message, recipient=self.target.name)

    def close(self) -> None:
        """Let the service go."""
        self._apprise = None
        self._service = None
