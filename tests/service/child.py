"""Run a watching service in its own process (for the SIGKILL test):
python -m tests.service.child CATALOG FOLDER LOG [--once]"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from autotagger.service.service import Service

from .helpers import LoggingTagger, options


def main(argv: list[str]) -> int:
    catalog, folder, log = argv[:3]
    once = "--once" in argv
    opts = options(Path(catalog).parent, [Path(folder)], once=once, settle_seconds=0.1, batch_size=8)
    svc = Service(opts, lambda: LoggingTagger(log, delay=0.02))
    signal.signal(signal.SIGTERM, lambda *a: svc.stop())
    failed = svc.run()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
