"""Settings: `config/defaults.yaml` under `BAZAAR_*` environment variables, validated once at start."""

from config.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
