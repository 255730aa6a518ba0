"""Print a greeting from greeting.py every second; edit greeting.py while this runs.

    python -m pmnc_hook examples/runner/app.py [ROUNDS]

The runner makes this script's directory the module directory: greeting.py, next to it, is
reachable as pmnc.greeting and reloads when it changes. This script is __main__, not one of
the reloadable modules.
"""

import sys
import time

from pmnc_hook import pmnc


def main(rounds: int) -> None:
    for n in range(rounds):
        print(pmnc.greeting.greet("world"), flush=True)
        if n + 1 < rounds:
            time.sleep(1)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
