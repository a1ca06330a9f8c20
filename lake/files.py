"""Local files written so a reader never sees half of one: a draft beside the final file, fsynced, renamed over it,
and the folder fsynced so the rename survives a crash. Used by the lake's own small files, the pipelines' outputs
and the simulator's ground truth."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def fsync_path(path: str | os.PathLike[str]) -> None:
    """fsync a file or a folder (a folder: its entries, so a rename into it survives a crash)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


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
