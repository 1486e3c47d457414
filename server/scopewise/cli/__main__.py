"""`python -m scopewise.cli`: the same as the `scopewise` command."""

import sys

from scopewise.cli.main import main

sys.exit(main())
