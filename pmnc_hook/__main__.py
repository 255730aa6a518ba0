"""``python -m pmnc_hook``: the command line of ``pmnc_hook._cli``."""

import sys

from pmnc_hook._cli import main

if __name__ == "__main__":
    sys.exit(main())
