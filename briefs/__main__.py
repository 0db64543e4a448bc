"""``python -m briefs``: the same as the ``briefs`` command."""

from briefs.cli import main

main()
