"""``python -m flamediff``: the console script, Ctrl-C during start-up included."""

import sys

try:
    from flamediff.cli import main
except KeyboardInterrupt:
    sys.stderr.write("interrupted\n")
    raise SystemExit(130) from None

raise SystemExit(main())
