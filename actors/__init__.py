"""Ray actors that own state. Each actor kind is a domain class plus its persistence (`actors/store.py`);
`ray.remote` is applied only where actors are spawned (`actors/system.py`)."""
