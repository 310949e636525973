"""``themeassist cache clear``: remove the cached embeddings (and optionally replace the cache key)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    cache = sub.add_parser("cache", help="manage the embedding cache").add_subparsers(dest="cache_cmd", required=True)
    p = cache.add_parser("clear", help="remove every cached embedding (only the files the cache wrote)")
    p.add_argument("--cache-dir", default=None, help="cache folder (default: the user cache folder)")
    p.add_argument("--new-key", action="store_true",
                   help="also replace the secret key the cache is keyed with (kept outside the cache folder)")
    p.set_defaults(func=run_clear)


def run_clear(args: argparse.Namespace) -> int:
    from themeassist.embed.cache import clear_cache, default_cache_dir, new_cache_key

    root = args.cache_dir if args.cache_dir is not None else default_cache_dir()
    n, size = clear_cache(root)
    print(f"removed {n} cached embedding file(s), {size / 2**20:.1f} MiB, from {root}")
    if args.new_key:
        print(f"new cache key written to {new_cache_key()}")
    return 0
