"""Notifications through Apprise ([[notify]]): an edition's headlines, breaking stories and
failing sources pushed to chat, phones and webhooks, each recorded and sent once.

``compose`` (what each target is told; bodies cut to a service's size; pure), ``channel``
(one target's Apprise service: its URL from the environment, failures classified, secrets
redacted) and ``send`` (the state machine over the store's records, the daemon's job).
"""

from __future__ import annotations

from briefs.notify.send import (
    check_targets,
    hold_notifications,
    notify_due,
    notify_edition,
    release,
)

__all__ = ["check_targets", "hold_notifications", "notify_due", "notify_edition", "release"]
