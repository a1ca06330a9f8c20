"""The replica's fan-out of live notifications to its open streams, without Redis: each entry reaches the streams
of its own user only, and a stream that stops reading is ended rather than holding the rest back."""

from __future__ import annotations

import asyncio
import json

from serve.live_notifications import QUEUE_SIZE, LiveFeed


def entry(user_id: str, seq: int) -> dict[str, str]:
    return {"user_id": user_id, "seq": str(seq), "notification": json.dumps({"id": f"ntf_{seq}", "seq": seq})}


def test_an_entry_reaches_only_its_users_streams_and_a_stalled_stream_is_ended() -> None:
    feed = LiveFeed("redis://127.0.0.1:1")  # never connected: the fan-out is in-process
    tab_one, tab_two, other = (asyncio.Queue[dict[str, object] | None](QUEUE_SIZE) for _ in range(3))
    feed.subscribers = {"usr_a": {tab_one, tab_two}, "usr_b": {other}}
    feed._fan_out(entry("usr_a", 1))
    assert tab_one.get_nowait() == tab_two.get_nowait() == {"id": "ntf_1", "seq": 1, "read": False}
    assert other.empty()

    for seq in range(2, QUEUE_SIZE + 3):  # tab_one reads nothing more; tab_two keeps reading
        feed._fan_out(entry("usr_a", seq))
        tab_two.get_nowait()
    assert feed.subscribers["usr_a"] == {tab_two}
    drained = [tab_one.get_nowait() for _ in range(tab_one.qsize())]
    assert drained[-1] is None and len(drained) == QUEUE_SIZE
    feed._fan_out(entry("usr_nobody", 9))  # no stream open for that user: nothing to do
