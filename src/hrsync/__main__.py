"""``python -m hrsync``: the same as the ``hrsync`` command."""

from hrsync.cli.main import main

main()
