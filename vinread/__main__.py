"""``python -m vinread``: the same as the ``vinread`` command."""
from .cli import main

main()
