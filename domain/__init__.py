"""The shop's rules as plain Python: no Ray, no Redis. Actors wrap these classes; unit tests use them directly."""
