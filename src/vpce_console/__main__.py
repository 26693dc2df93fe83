"""`python -m vpce_console` runs the same entry point as the `vpce` script."""

from vpce_console.cli import main

raise SystemExit(main())
