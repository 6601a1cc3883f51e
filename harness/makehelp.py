#!/usr/bin/env python3
"""makehelp.py MAKEFILE... - `make help`: the demos, then every target with
the description written after '##' on its line in the Makefiles."""
import re
import sys

import demolib
from i18n import _

# "target: prerequisites ## what it does"; the demo rule is "$(DEMO_GOALS): demo-%: ## ..."
TARGET = re.compile(r"^(?:\$\(DEMO_GOALS\): )?([A-Za-z0-9_.%-]+):[^=]*?## (.*)$")


def targets(makefiles):
    found = []
    for path in makefiles:
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = TARGET.match(line.rstrip("\n"))
                if m:
                    found.append((m.group(1).replace("%", "N"), m.group(2)))
    return found


def main(argv) -> int:
    print(_("Sticky-packet demos (each runs its server and client, then checks them):"))
    for d in demolib.all_demos():
        print(f"  make demo-{d.number:<3d} {_(d.title)}")
    print()
    print(_("Targets:"))
    for name, text in targets(argv):
        print(f"  make {name:<14} {_(text)}")
    print()
    print(_("Variables: CC=clang, CFLAGS=..., WERROR= (build without -Werror), V=1 (show "
            "every command), LIVE=40, STEP=1, VERBOSE=1, FULL=1 (for make demo-N)"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
