"""``python -m solver solve PROBLEM.json``: the solver's CLI without the web app."""

from solver.cli import main

raise SystemExit(main())
