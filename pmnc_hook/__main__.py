"""``python -m pmnc_hook``: the command line of ``pmnc_hook.run.cli``."""

import sys

from pmnc_hook.run.cli import main

if __name__ == "__main__":
    sys.exit(main())
