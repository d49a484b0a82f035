"""The `pingan` console script: Django's management commands with pingan's settings preset."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.config.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["pingan", *sys.argv[1:]])


if __name__ == "__main__":
    main()
