"""``python -m sonotype`` runs the command line."""

from sonotype.cli.main import run

run()
