"""Analytics over the event lake: the lake's events staged for SQL, the metrics, and their output files."""
