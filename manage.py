#!/usr/bin/env python
"""Django's command-line utility; works against the embedded database, starting it on demand."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mendel.settings")
    from django.core.management import execute_from_command_line

    from mendel.commands import unmigrated

    try:
        execute_from_command_line(sys.argv)
    except Exception as error:
        if (sentence := unmigrated(error)) is None:
            raise
        sys.exit(sentence)


if __name__ == "__main__":
    main()
