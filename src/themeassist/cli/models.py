"""``themeassist models ...``: local embedding models."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    models = sub.add_parser("models", help="manage local embedding models").add_subparsers(dest="models_cmd",
                                                                                              required=True)
    p = models.add_parser("build-static", help="distil the static model from the packaged MiniLM (offline)")
    p.add_argument("--out", default=None,
                   help="folder to write (default: models/minilm-static in a source checkout, else the user "
                        "data folder, where --model static finds it)")
    p.add_argument("--pca-dims", type=int, default=256)
    p.add_argument("--overwrite", action="store_true",
                   help="replace the static model already in --out (nothing else is ever replaced)")
    p.set_defaults(func=run_build_static)


def run_build_static(args: argparse.Namespace) -> int:
    from themeassist.embed import static_model_path
    from themeassist.models import build_static

    out = args.out if args.out is not None else static_model_path()
    path = build_static(out, pca_dims=args.pca_dims, overwrite=args.overwrite)
    print(f"static model written to {path}")
    return 0
