"""``python -m api.cli``: the ``counterpart`` command line."""

from api.cli import main

main()
