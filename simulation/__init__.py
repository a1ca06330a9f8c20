"""Simulated shoppers: the world model (`world.py`), the HTTP traffic simulator (`simulate.py`) and the synthetic
lake generator (`synthetic.py`). See issue 11."""
