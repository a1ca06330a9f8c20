"""How every long-lived Bazaar process (a state-owning actor, an API replica) tunes Python's cyclic garbage
collector, once it has loaded what it keeps for its whole life.

With Python's default thresholds (700, 10, 10) the collector rescanned everything the process holds at about
every 25% of growth. In a shard that was 16% of its time at 400,000 reservations; in an API replica (Ray, Serve,
FastAPI and their modules: some 190,000 tracked objects) it was a 10-25 ms stop of every request in flight about
every 2 s at 1,700 requests/s, most of the recommendation routes' p99 (benchmarks/README.md). Collecting the young
generation every 20,000 allocations instead of 700 lets a request's objects die before they are promoted, and
`gc.freeze()` moves what is loaded into the permanent generation, never rescanned. Cyclic garbage (a refused
command's exception and its traceback) is still collected young.
"""

from __future__ import annotations

import gc

THRESHOLDS = (20_000, 10, 20)


def settle() -> None:
    """Call at the end of the process's setup: its modules and loaded state are never rescanned."""
    gc.set_threshold(*THRESHOLDS)
    gc.freeze()
