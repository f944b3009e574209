"""Software update (manual 7.10): what the "Software update" page hands an uploaded bundle to.

A placeholder: bundles are installed by the firmware image, whose signed A/B updater (verify
the signature, write the inactive root partition, switch on the next boot, fall back if that
boot fails) replaces this module. Until then every bundle is refused and removed, so an upload
never stays on the data partition.
"""

from __future__ import annotations

from pathlib import Path

from .settings import ConfigError


def install_update(path: Path) -> None:
    """Install the bundle at `path`; for now: delete it and refuse (ConfigError on field "bundle")."""
    Path(path).unlink(missing_ok=True)
    raise ConfigError("bundle", "this system has no updater yet: bundles are installed on the firmware image")
