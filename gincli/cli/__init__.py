"""The ``gin`` command: thin Click commands that parse options, call the API and report."""

from gincli.cli.main import main

__all__ = ["main"]
