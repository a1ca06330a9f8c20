"""One router per domain; `serve/api.py` includes them all."""
