"""``python -m heed``: the ``heed`` command line."""

from heed.cli import main

main()
