"""``python -m pmnc_hook.check``: the static checker alone (as ``python -m pmnc_hook --check``)."""

import sys

from pmnc_hook.check.files import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
