"""autotagger folders add|remove|list: the folders the service watches, remembered in the catalogue (the
same list as the window's Folders tab and Settings > Watching). `folders` in the config file (or
AUTOTAGGER_FOLDERS) adds more, for headless setups: list shows them, marked, and they are edited there."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from autotagger.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    emit_json,
    folder_arg,
    load_settings_from_args,
)

if TYPE_CHECKING:
    from autotagger.catalog import Catalog
    from autotagger.config import Settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("folders", help="add, remove or list the folders the service watches", description=__doc__)
    verbs = p.add_subparsers(dest="verb", metavar="add|remove|list", required=True)
    add = verbs.add_parser("add", help="remember folders to watch")
    add.add_argument("dirs", nargs="+", metavar="DIR")
    add.add_argument("--no-recursive", action="store_true", help="only the folder itself, not sub-folders")
    rm = verbs.add_parser("remove", help="stop watching folders (their images stay in the catalogue)")
    rm.add_argument("dirs", nargs="+", metavar="DIR")
    ls = verbs.add_parser("list", help="show the watched folders (those from the settings marked so)")
    ls.add_argument("--json", action="store_true", help="JSON Lines")
    p.set_defaults(run=run)


def extra_folders_source(args: argparse.Namespace) -> str:
    """Where the settings' extra folders come from, in words."""
    from autotagger.config import default_config_path, environment_overrides

    if "folders" in environment_overrides():
        return "AUTOTAGGER_FOLDERS"
    return f"the settings file {getattr(args, 'config', None) or default_config_path()}"


def run(args: argparse.Namespace) -> int:
    from autotagger.catalog import Catalog, CatalogError

    settings = load_settings_from_args(args, makes_catalog=args.verb == "add")
    if args.verb != "add" and not settings.catalog_path.exists():
        # list and remove only read: a catalogue that is not there yet holds no folders, and is not made
        return _run(args, settings, None)
    try:
        cat = Catalog(settings.catalog_path)
    except CatalogError as exc:
        raise CliError(str(exc)) from None
    try:
        return _run(args, settings, cat)
    finally:
        cat.close()


def _run(args: argparse.Namespace, settings: Settings, cat: Catalog | None) -> int:
    """The verb, on ``cat`` (None: no catalogue exists, so no folder was ever added)."""
    from autotagger.config import union_folders

    known = {f.path: f for f in cat.list_folders()} if cat is not None else {}
    extra = [p for p in union_folders(known, settings.folders) if p not in known]
    if args.verb == "add":
        assert cat is not None
        for d in args.dirs:
            path = folder_arg(d)
            cat.add_folder(path, recursive=not args.no_recursive)
            print(f"watching {path}")
    elif args.verb == "remove":
        for d in args.dirs:
            path = os.path.abspath(os.path.expanduser(d))
            if path not in known:
                if path in extra:
                    raise CliError(f"{path}: comes from {extra_folders_source(args)} (folders); "
                                   "remove it there", EXIT_USAGE)
                raise CliError(f"{path}: not a watched folder", EXIT_USAGE)
            assert cat is not None
            cat.remove_folder(path)
            print(f"no longer watching {path}")
    else:
        for f in known.values():
            missing = not os.path.isdir(f.path)
            if args.json:
                emit_json({"path": f.path, "recursive": f.recursive, "added_at": f.added_at, "missing": missing,
                           "source": "catalog"})
            else:
                print(f.path + ("" if f.recursive else "  (not recursive)") + ("  (missing)" if missing else ""))
        source = extra_folders_source(args) if extra else ""
        for path in extra:
            missing = not os.path.isdir(path)
            if args.json:
                emit_json({"path": path, "recursive": settings.recursive, "added_at": None, "missing": missing,
                           "source": "environment" if source == "AUTOTAGGER_FOLDERS" else "settings"})
            else:
                print(path + f"  (from {source})" + ("  (missing)" if missing else ""))
    return EXIT_OK
