"""The HTTP surface: a Ray Serve deployment with a FastAPI ingress. Routes parse, authorize, call, map errors."""
