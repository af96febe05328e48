"""The HTTP API and the ``counterpart`` command line (arrive with the API work)."""
