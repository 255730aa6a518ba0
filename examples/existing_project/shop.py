"""Print the same invoice again and again; its discount comes from rules/discounts.py.

    PMNC_HOOK_PATH=examples/existing_project/rules python examples/existing_project/shop.py

Nothing here installs pmnc_hook: the variable does, when Python starts. Edit
rules/discounts.py while this runs (say, ``return 0.1``) and the next invoice uses it.
"""

import argparse
import time

from store import invoice

ORDER = [("tea", 3), ("cake", 2)]


def main():
    parser = argparse.ArgumentParser(description="Print an invoice again and again.")
    parser.add_argument("--rounds", type=int, default=30, help="invoices to print (30)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between them")
    args = parser.parse_args()
    for n in range(1, args.rounds + 1):
        cents, rate = invoice.total(ORDER)
        print(f"invoice {n}: 3 tea, 2 cake: {cents / 100:.2f} (discount {rate:.0%})", flush=True)
        if n < args.rounds:
            time.sleep(args.interval)


if __name__ == "__main__":
    main()
