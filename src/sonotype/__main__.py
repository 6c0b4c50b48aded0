"""``python -m sonotype`` runs the command line."""

from sonotype.cli.main import run

# Guarded: worker processes started from a fork server or by spawning import this module
# again, and must not run the command line a second time.
if __name__ == "__main__":
    run()
