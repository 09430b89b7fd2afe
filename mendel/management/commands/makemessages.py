"""``manage.py makemessages``: Django's, which also reads ``pgettext_noop(context, message)``.

The demo gallery's words (``frontend.demo``) are kept in English and translated where they
are shown, under the context ``breeding.languages.DEMO``: they are marked with a
``pgettext_noop`` that gives its message back as it is, which Django's command does not know.
"""

from __future__ import annotations

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=pgettext_noop:1c,2"]
