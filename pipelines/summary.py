"""A pipeline's last line of output, `{"rows": N}`: how a scheduled run tells the scheduler what it wrote.

Every pipeline's CLI ends with `print_summary(rows)`; the scheduler reads the line back from the Ray Job's logs
(`rows_in`) and shows it as the run's `rows` in `GET /v1/admin/jobs`. A run that prints none has `rows: null`.
"""

from __future__ import annotations

import json


def print_summary(rows: int) -> None:
    print(json.dumps({"rows": int(rows)}), flush=True)


def rows_in(logs: str) -> int | None:
    """The rows of the last summary line in a job's logs, or None when there is none."""
    for line in reversed(logs.splitlines()):
        line = line.strip()
        if line.startswith("{") and '"rows"' in line:
            try:
                rows = json.loads(line).get("rows")
            except (ValueError, AttributeError):
                continue
            if isinstance(rows, int) and not isinstance(rows, bool):
                return rows
    return None
