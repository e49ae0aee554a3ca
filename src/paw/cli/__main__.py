"""`python -m paw.cli …` is the same as the `paw` console script."""

import sys

from paw.cli import main

sys.exit(main())
