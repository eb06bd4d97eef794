"""`python -m hwgen ...`, the same as the `hwgen` command (torchrun starts it so: `torchrun -m hwgen`)."""

from .cli import main

raise SystemExit(main())
