"""What a service runs with: its options, from the user's settings (CLI `watch`/`service`, the tray) or
given directly (tests, `watch DIR...`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from autotagger.service.folders import remembered_folders
from autotagger.service.items import DAMAGED_SETTLED, RETRY_DELAYS, default_loader_threads


@dataclass
class ServiceOptions:
    catalog_path: str
    folders: Sequence[str] | None = None  # None: the folders remembered in the catalogue
    recursive: bool = True  # False: no folder's sub-folders (a remembered folder can say so itself)
    #: The folders are the remembered ones (the catalogue's, then ``extra_folders``), read again while
    #: running: a folder added or removed in the window, the settings or `autotagger folders` is
    #: watched, or no longer, within seconds. ``folders`` is then the list as it was at the start.
    follow_catalog: bool = False
    extra_folders: tuple[str, ...] = ()
    write_mode: str = "auto"
    sidecar_name: str = "ext"
    keep_backup: bool = False
    batch_size: int = 8
    settle_seconds: float = 2.0
    poll: bool = False
    once: bool = False
    reconcile_every: float = 600.0
    check_every: float = 5.0  # vanished / returned folders, and the remembered list (follow_catalog)
    state_every: float = 1.0
    fill_wait: float = 0.3
    loader_threads: int = field(default_factory=default_loader_threads)
    max_attempts: int = 3
    retry_delays: tuple[float, ...] = RETRY_DELAYS
    damaged_settled: float = DAMAGED_SETTLED
    min_size: int = 224

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> ServiceOptions:
        """The options the user's settings give (CLI `watch`/`service`, the tray), plus overrides.

        Unless ``folders`` is given (`watch DIR...`), the folders are the one watched list, the same for
        every way of running: the catalogue's folders (the window's Folders tab, Settings > Watching,
        `autotagger folders`) and then the settings' extra ``folders`` (the config file or
        AUTOTAGGER_FOLDERS, for headless setups). A catalogue that cannot be opened here leaves them
        None: the service opens it itself and says why."""
        folders = overrides.pop("folders", None)
        follow = folders is None
        if follow:
            from autotagger.catalog import CatalogError

            try:
                folders = remembered_folders(settings.catalog_path, settings.folders)
            except CatalogError:
                folders = None
        values: dict[str, Any] = {
            "catalog_path": str(settings.catalog_path),
            "folders": folders,
            "follow_catalog": follow,
            "extra_folders": tuple(settings.folders) if follow else (),
            "recursive": settings.recursive,
            "write_mode": settings.write,
            "sidecar_name": settings.sidecar_name,
            "keep_backup": settings.keep_backup,
            "batch_size": settings.batch_size,
            "settle_seconds": settings.settle_seconds,
            "poll": settings.poll,
        }
        values.update(overrides)
        return cls(**values)
