"""Print a greeting from modules/greeting.py every second, with no set-up code at all.

    PMNC_HOOK_PATH=examples/env_var/modules python examples/env_var/main.py [ROUNDS]

With PMNC_HOOK_PATH set, the pmnc_hook.pth start-up file installs the hook when Python
starts, so this program only uses the pmnc facade. Edit modules/greeting.py while it runs.
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
