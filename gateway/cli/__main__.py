"""`python -m gateway.cli`: the `code4` command, as the tests and the benchmarks start it."""

import sys

from gateway.cli import main

sys.exit(main())
