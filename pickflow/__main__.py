"""``python -m pickflow``: the ``pickflow`` command."""

from .cli import main

main()
