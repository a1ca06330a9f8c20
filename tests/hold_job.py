"""A Ray Job for tests/e2e/test_jobs.py: it runs for as long as the file named by its argument exists (a minute at
most), so a test keeps a run in flight exactly as long as it needs, however fast the machine."""

from __future__ import annotations

import sys
import time
from pathlib import Path


def main() -> None:
    flag, deadline = Path(sys.argv[1]), time.monotonic() + 60
    while flag.exists() and time.monotonic() < deadline:
        time.sleep(0.1)


if __name__ == "__main__":
    main()
