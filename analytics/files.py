"""Writing a pipeline's output so a reader never sees half of it: a new file beside the old, fsynced, renamed over it.

Also where a pipeline finds Ray: the cluster it runs in as a Ray Job (or RAY_ADDRESS / settings.ray_address), a
local one started on the spot otherwise.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from config import Settings
from lake.layout import fsync_path


def draft_path(final: Path) -> Path:
    """Where a new version of `final` is written before it is swapped in (same folder, so the rename is atomic)."""
    return final.with_name(f".{final.name}.{os.getpid()}.new")


@contextmanager
def swapped_in(final: Path) -> Iterator[Path]:
    """Yields the draft to write; when the block ends without an error, the draft replaces `final` atomically.
    On an error the draft is deleted and `final` stays as it was."""
    final.parent.mkdir(parents=True, exist_ok=True)
    draft = draft_path(final)
    draft.unlink(missing_ok=True)
    try:
        yield draft
        swap(draft, final)
    finally:
        draft.unlink(missing_ok=True)


def swap(draft: Path, final: Path) -> None:
    fsync_path(draft)
    os.replace(draft, final)
    fsync_path(final.parent)


def write_atomically(final: Path, content: bytes) -> None:
    with swapped_in(final) as draft:
        draft.write_bytes(content)


def ensure_ray(settings: Settings) -> None:
    """Join the cluster at settings.ray_address (RAY_ADDRESS: a Ray Job's entrypoint has it), else start a local
    Ray of settings.ray_num_cpus CPUs for this run."""
    import ray

    if ray.is_initialized():
        return
    if settings.ray_address:
        ray.init(address=settings.ray_address, namespace=settings.ray_namespace, log_to_driver=False,
                 logging_level=logging.ERROR, configure_logging=False)
    else:
        ray.init(address="local", num_cpus=settings.ray_num_cpus, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.ERROR, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
