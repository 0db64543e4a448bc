"""Typed, frozen data passed between the pipeline stages.

Every stage takes and returns these; nothing raw from a parser or the database travels past the
module that produced it. All datetimes are timezone-aware and stored in UTC.

They live by stage: :mod:`briefs.models.sources` (what is read), :mod:`~briefs.models.stories`
(what grouping and summarizing make), :mod:`~briefs.models.editions` (what building makes) and
:mod:`~briefs.models.delivery` (what is sent). Import them from here.
"""

from __future__ import annotations

from briefs.models.delivery import (
    Delivery,
    DeliveryReport,
    DeliveryStatus,
    Notification,
    NotificationStatus,
    NotifyReport,
)
from briefs.models.editions import (
    DEFAULT_BRIEF,
    Brief,
    BriefStory,
    Edition,
    EditionRecord,
    Printing,
    RunReport,
    SearchHit,
)
from briefs.models.sources import (
    Article,
    BodyOrigin,
    FeedState,
    ImapSettings,
    MailboxMemory,
    PageRecord,
    PollResult,
    SeenMessage,
    Sketch,
    Source,
    SourceKind,
    SourceOption,
    word_count,
)
from briefs.models.stories import (
    Sentence,
    Story,
    StoryChange,
    StoryLink,
    Summary,
    TimelineEntry,
)

__all__ = [
    "DEFAULT_BRIEF",
    "Article",
    "BodyOrigin",
    "Brief",
    "BriefStory",
    "Delivery",
    "DeliveryReport",
    "DeliveryStatus",
    "Edition",
    "EditionRecord",
    "FeedState",
    "ImapSettings",
    "MailboxMemory",
    "Notification",
    "NotificationStatus",
    "NotifyReport",
    "PageRecord",
    "PollResult",
    "Printing",
    "RunReport",
    "SearchHit",
    "SeenMessage",
    "Sentence",
    "Sketch",
    "Source",
    "SourceKind",
    "SourceOption",
    "Story",
    "StoryChange",
    "StoryLink",
    "Summary",
    "TimelineEntry",
    "word_count",
]
