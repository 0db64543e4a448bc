"""Quality harness: score briefs' stages on labelled data (``briefs eval ...``)."""
