"""The event lake: every event of the streams, exactly once, as Parquet by event type and date (docs/events.md)."""
