"""Run the command line with ``python -m qa2anki``."""

from qa2anki.cli import main

main()
