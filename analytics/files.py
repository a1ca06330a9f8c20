"""Where a pipeline finds Ray: the cluster it runs in as a Ray Job (or RAY_ADDRESS / settings.ray_address), a
local one started on the spot otherwise.
"""

from __future__ import annotations

import logging

from config import Settings


def ensure_ray(settings: Settings) -> None:
    """Join the cluster at settings.ray_address (RAY_ADDRESS: a Ray Job's entrypoint has it), else start a local
    Ray of settings.ray_num_cpus CPUs for this run."""
    import ray

    if ray.is_initialized():
        return
    if settings.ray_address:
        ray.init(address=settings.ray_address, namespace=settings.ray_namespace, log_to_driver=False,
                 logging_level=logging.ERROR, configure_logging=False)
    else:
        ray.init(address="local", num_cpus=settings.ray_num_cpus, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.ERROR, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
