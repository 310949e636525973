"""``themeassist suggest``: codebook themes suggested for every comment."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from themeassist.cli._common import (
    check_out,
    codebook_args,
    common,
    corpus_args,
    embedder,
    input_files,
    keep_coder_work,
    load,
    maybe_redact,
    positive_int,
    redact_args,
    redact_text,
)

#: Columns the review adds to the suggestions (an input column of that name is kept as <name>_input).
REVIEW_COLUMNS = ("decision", "final_codes")
#: Above this many comments to embed with the default model, ``suggest`` says what the run will cost
#: and that ``--model static`` is the fast path (benchmarks/RESULTS.md, Speed).
MINILM_NOTE_ROWS = 50_000


def register(sub: Any) -> None:
    p = sub.add_parser("suggest", help="suggest codebook themes for every comment")
    corpus_args(p)  # --period-col/--period-freq: checked now and written as 'period', as audit and drift read them
    common(p)
    p.add_argument("--codebook", required=True, help="codebook: YAML/JSON, a CSV/XLSX table (one row per theme, or one column per level), a REFI-QDA .qdc, or a built-in name (iapt)")
    codebook_args(p)
    p.add_argument("--examples", default=None, help="already-coded comments (CSV/XLSX)")
    p.add_argument("--examples-text-col", default="text")
    p.add_argument("--examples-codes-col", default="codes", help="theme ids, paths or names joined by '|'")
    p.add_argument("--examples-blank", default="auto", choices=("auto", "none", "not_coded"),
                   help="how an examples row with blank codes is read: coded with no theme (none), not coded yet "
                        "(not_coded), or auto: not coded yet when the examples file is INPUT itself or writes "
                        "'none' somewhere, else no theme")
    p.add_argument("--examples-id-col", default=None,
                   help="the examples' comment ids (default: the --id-col column, when the examples file has it): "
                        "comments of INPUT that are coded examples (or accepted / recoded in --decisions) get their "
                        "codes in example_codes, which audit never draws and drift --audit counts as coded")
    p.add_argument("--decisions", action="append", default=None,
                   help="a suggestions file edited by a coder (decision column); give it once per review round "
                        "(--decisions round1.csv --decisions round2.csv): a later file wins for a comment decided twice")
    p.add_argument("--regime", default="auto", choices=["auto", "zero-shot", "few-shot", "supervised"])
    p.add_argument("--top-k", type=positive_int, default=3, help="at most this many themes per comment")
    p.add_argument("--engine", default="local", choices=["local", "dask"])
    p.add_argument("--scheduler", default=None, help="dask.distributed scheduler address (default: LocalCluster)")
    p.add_argument("--workers", type=positive_int, default=2,
                   help="--engine dask without --scheduler: local worker processes")
    p.add_argument("--partition-size", type=positive_int, default=20_000, help="--engine dask: comments per partition")
    p.add_argument("--chunk-size", type=positive_int, default=2000,
                   help="comments per chunk; a killed run started again continues from the last finished chunk")
    p.add_argument("--run-dir", default=None, help="folder for the chunks (default: .OUT.run beside OUT)")
    doubt = p.add_argument_group("doubt (--target-recall, --auto-accept and --quality-out are learnt from held-out "
                                  "examples: they need --examples or --decisions; --review-order works without)")
    doubt.add_argument("--target-recall", type=unit_interval, default=None, metavar="R",
                       help="add recall_set (names) and recall_set_ids: per comment the themes above one score "
                            "threshold, the highest whose mean per-comment recall on held-out examples is >= R "
                            "(conformal risk control: a guarantee on average over comments, not for each one)")
    doubt.add_argument("--auto-accept", type=unit_interval, nargs="?", const=0.95, default=None, metavar="P",
                       help="add auto_accept (names) and auto_accept_ids: the suggestions whose held-out precision is "
                            ">= P (default 0.95)")
    doubt.add_argument("--review-order", action="store_true",
                       help="add review_rank, selection_probability and review_sample: a review queue drawn at "
                            "random, leaning towards comments that would teach the mapper most")
    doubt.add_argument("--review-size", type=positive_int, default=50,
                       help="--review-order: expected number of comments in the review sample (each comment is "
                            "drawn on its own, so the sample's size varies around it)")
    doubt.add_argument("--quality-out", default=None, metavar="FILE",
                       help="also write the held-out agreement per theme (examples, calibration, threshold, "
                            "precision, recall, kappa: what suggest prints, theme by theme) to FILE (.csv/.xlsx/.parquet)")
    redact_args(p)
    p.add_argument("--out", required=True, help="OUT.csv, OUT.xlsx or OUT.parquet")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --out even when its decision / final_codes columns hold a coder's work")
    p.set_defaults(func=run)


def unit_interval(value: str) -> float:
    """An argparse type: a number strictly between 0 and 1."""
    try:
        x = float(value)
    except ValueError:
        x = -1.0
    if not 0.0 < x < 1.0:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1 (e.g. 0.9); got {value!r}")
    return x


def fitted_mapper(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """The ThemeMapper fitted on ``--codebook``, ``--examples`` and ``--decisions``, the examples
    it was fitted on (``None`` without any) and the tables of coded comments: ``--examples`` and
    the decisions read from ``--decisions``, each as read."""
    import pandas as pd

    from themeassist.cli._common import codebook as read_codebook
    from themeassist.mapping import ThemeMapper, read_decisions
    from themeassist.mapping.examples import check_examples

    examples = None
    if args.examples:
        examples = _read_examples_with_ids(args)
        has_ids = examples.attrs.get("ids", True)
        examples = redact_text(examples, args, what="examples")
        examples.attrs["ids"] = has_ids
    counts = [] if examples is None else list(examples["codes"])
    if args.decisions and args.merge_variants:  # the coder's own spellings count too
        counts += [c for path in args.decisions for c in read_decisions(path)["codes"]]
    codebook = read_codebook(args, counts)
    if examples is not None:
        check_examples(examples, codebook, where=f"--examples {args.examples}", codes_col=args.examples_codes_col,
                       quiet=True)  # fitting warns about codes read as a same-named sub-theme
    coded = [] if examples is None else [examples]  # the comments whose codes are known, by source
    if args.decisions:
        rounds = [redact_text(read_decisions(path, codebook=codebook), args, what="decisions")
                  for path in args.decisions]
        decided = _latest_decisions(rounds)
        print(_decisions_read(args.decisions, rounds, decided))
        coded.append(decided)  # accepts and recodes code a comment in full; a reject only in part
        examples = decided if examples is None else pd.concat([examples, decided], ignore_index=True)
    mapper = ThemeMapper(regime=args.regime, top_k=args.top_k, embedder=embedder(args), random_state=args.seed)
    return mapper.fit(codebook, examples), examples, coded


def _decisions_read(paths: list[str], rounds: list[Any], decided: Any) -> str:
    """What ``--decisions`` read: per file its decisions by kind, and how many a later file overrode."""
    parts = []
    for path, table in zip(paths, rounds):
        kinds = table["decision"].astype(str).value_counts()
        parts.append(f"{path}: " + ", ".join(f"{int(kinds.get(k, 0))} {k}" for k in ("accept", "recode", "reject")))
    over = sum(len(t) for t in rounds) - len(decided)
    return ("decisions read (accept and recode: the comment coded in full; reject: those themes ruled out for it, "
            "never suggested again): " + "; ".join(parts)
            + (f"; {over} decisions of an earlier file were replaced by a later one (a reject keeps the earlier "
               "rejects)" if over else "") + ".")


def _latest_decisions(tables: list[Any]) -> Any:
    """The decisions of several review rounds as one table: a comment decided in two rounds keeps its
    latest, and a latest reject also keeps the themes its earlier rejects ruled out (each round rejects
    what was suggested then: every rejected theme stays rejected until an accept or a recode)."""
    import pandas as pd

    if len(tables) == 1:
        return tables[0]
    both = pd.concat(tables, ignore_index=True)
    latest = both[~both["doc_id"].astype(str).duplicated(keep="last")].reset_index(drop=True)
    ruled_out: dict[str, list[str]] = {}  # per comment, the rejects since its last accept or recode
    for doc, kind, negs in zip(both["doc_id"].astype(str), both["decision"].astype(str),
                               both["negative_codes"].fillna("").astype(str)):
        ruled_out[doc] = [*ruled_out.get(doc, []), *(t for t in negs.split("|") if t)] if kind == "reject" else []
    is_reject = latest["decision"].astype(str).eq("reject")
    latest.loc[is_reject, "negative_codes"] = [
        "|".join(dict.fromkeys(ruled_out.get(d, []))) for d in latest.loc[is_reject, "doc_id"].astype(str)]
    return latest


def _match_coded(corpus: Any, coded: list[Any], mapper: Any) -> list[tuple[Any, Any, str]]:
    """Each coded table (examples, decisions) matched to the comments once, by doc_id or by text:
    ``(table, example_codes column or None, how)``, a column aligned with the corpus rows."""
    from themeassist.mapping.examples import example_codes

    texts = dict(zip(corpus["doc_id"].astype(str), corpus["text"]))
    return [(table, *example_codes(corpus[["doc_id"]], table, mapper.codebook_, texts=texts,
                                   by_id=table.attrs.get("ids", True))) for table in coded]


def _aligned(suggestions: Any, corpus: Any, matched: list[tuple[Any, Any, str]], mapper: Any,
             texts: dict[str, Any]) -> list[tuple[Any, Any, str]]:
    """:func:`_match_coded`'s columns on the rows of ``suggestions``: as they are when its rows are
    the corpus's (one per comment, in order, as suggest writes them), else matched again."""
    from themeassist.mapping.examples import example_codes

    if suggestions["doc_id"].astype(str).tolist() == corpus["doc_id"].astype(str).tolist():
        return [(t, None if c is None else c.set_axis(suggestions.index), h) for t, c, h in matched]
    return [(t, *example_codes(suggestions, t, mapper.codebook_, texts=texts, by_id=t.attrs.get("ids", True)))
            for t, _, _ in matched]


def _coded_among(corpus: Any, matched: list[tuple[Any, Any, str]]) -> int:
    """How many of the substantive comments are coded already (not suggested anew): those that a
    coded table names (:func:`_match_coded`)."""
    import numpy as np

    ok = corpus["status"].astype(str).isin(("ok", "truncated")).to_numpy()
    known = np.zeros(len(corpus), dtype=bool)
    for _, col, _ in matched:
        if col is not None:
            known |= (col != "").to_numpy()
    return int((known & ok).sum())


def expected_quality(mapper: Any, n_new: int | None = None) -> tuple[str, Any]:
    """What the coder can expect of the suggestions, and the per-theme figures behind it: the
    mapper's held-out agreement with its own coded examples
    (:func:`themeassist.mapping.quality.held_out_quality`), or why it cannot be estimated (None)."""
    if getattr(mapper, "oof_proba_", None) is None:
        if getattr(mapper, "n_examples_", 0):  # --regime zero-shot, or too few examples to learn from
            return (f"zero-shot (codebook only; the {mapper.n_examples_} coded examples were not learnt from): how far "
                    "these suggestions agree with a coder cannot be estimated; drop --regime zero-shot or code more "
                    "comments (at least 4 with codes)."), None
        return ("zero-shot (codebook only): how far these suggestions agree with a coder cannot be estimated "
                "without coded examples; code some comments and pass them with --examples."), None
    from themeassist.mapping.quality import held_out_quality

    if n_new is not None:
        n_new = max(n_new, 1)
    quality = held_out_quality(mapper, n_new=n_new, random_state=getattr(mapper, "random_state", 0))
    return quality.summary(), quality


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one existing file."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _read_examples_with_ids(args: argparse.Namespace) -> Any:
    """:func:`_examples_with_ids`, its messages naming the ``--examples-*`` options."""
    import re

    from themeassist.exceptions import CorpusError

    try:
        return _examples_with_ids(args)
    except CorpusError as exc:
        raise CorpusError(re.sub(r"\b(text_col|codes_col|id_col)=", r"examples_\1=", str(exc))) from exc


def _examples_with_ids(args: argparse.Namespace) -> Any:
    """``--examples`` read with their comment ids (``--examples-id-col``, else ``--id-col`` when the
    file has that column; else numbered ex1, ex2, ..., and ``attrs["ids"]`` is False)."""
    from themeassist.exceptions import CorpusError
    from themeassist.mapping import read_examples

    blank = args.examples_blank
    if blank == "auto" and _same_file(args.examples, args.input):  # codes kept in the comments file itself
        blank = "not_coded"
    kw = {"text_col": args.examples_text_col, "codes_col": args.examples_codes_col, "blank": blank}
    if args.examples_id_col is not None:
        return read_examples(args.examples, id_col=args.examples_id_col, **kw)
    if args.id_col is not None:
        try:
            return read_examples(args.examples, id_col=args.id_col, **kw)
        except CorpusError as exc:
            if f"column {args.id_col!r} not found" not in str(exc):
                if f"id column {args.id_col!r}" not in str(exc):
                    raise
                # ids that are blank or repeated cannot name comments: read the examples without them
                warnings.warn(f"suggest: the --examples file's {args.id_col!r} column cannot name its comments "
                              f"({str(exc).split(': ', 1)[-1].split('. ')[0]}); the examples are matched to the "
                              "comments by their text instead (example_codes).", UserWarning, stacklevel=2)
    out = read_examples(args.examples, **kw)
    out.attrs["ids"] = False
    return out


def doubt_columns(args: argparse.Namespace, mapper: Any, examples: Any) -> Any:
    """The function adding the columns asked for by ``--target-recall``, ``--auto-accept`` and
    ``--review-order`` to a suggestions table (the identity when none is asked for); each prints
    what it guarantees."""
    steps = []
    if args.target_recall is not None or args.auto_accept is not None:
        from themeassist.exceptions import CorpusError
        from themeassist.mapping.conformal import AutoAccept, RecallSets, held_out_scores

        flag = "--target-recall" if args.target_recall is not None else "--auto-accept"
        if examples is None or mapper.regime_ == "zero-shot":
            raise CorpusError(f"{flag} is learnt from held-out coded examples and the mapper has none (zero-shot: no "
                              "guarantee can be stated); pass --examples CODED.csv (or --decisions), or drop "
                              f"{flag}.")
        ho = held_out_scores(mapper, examples)
        if args.target_recall is not None:
            steps.append(RecallSets(target_recall=args.target_recall).fit(ho.scores, ho.labels, known=ho.known))
        if args.auto_accept is not None:
            steps.append(AutoAccept(target_precision=args.auto_accept).fit(ho.scores, ho.labels, known=ho.known))

    def add(table: Any) -> Any:
        for step in steps:
            table = step.annotate(table, mapper.theme_index())
            print(step.summary(table))
        if args.review_order:
            from themeassist.mapping.review import add_review_order

            table = add_review_order(table, mapper, review_size=args.review_size, random_state=args.seed)
            print(f"review sample: {int(table['review_sample'].sum())} comments (review_sample; {args.review_size} "
                  "expected: each comment is drawn on its own with its selection_probability), ranked first by "
                  "review_rank; selection_probability is known for every scored comment")
        return table

    return add


def _coded_rows(table: Any) -> int:
    """Rows of an examples or decisions table that say how a comment is coded (a comment, not ``not_coded``)."""
    return int(table["status"].astype(str).isin(("ok", "truncated")).sum()) if "status" in table.columns else len(table)


def _input_columns(corpus: Any, *, keep_period: bool) -> Any:
    """``doc_id``, ``text`` and the input's own columns of a corpus, under their input names: the
    corpus's derived columns (``row``, ``status``, ``reason``, ``date``; ``period`` unless asked
    for) are dropped, and an input column load_corpus kept as ``<name>_input`` because ``<name>``
    is a corpus column gets its name back (a ``date`` column stays ``date``, so that audit and
    drift read it with the same ``--period-col``)."""
    dropped = {"row", "status", "reason", "date"} | (set() if keep_period else {"period"})
    out = corpus.drop(columns=[c for c in dropped if c in corpus.columns])
    back = {f"{c}_input": c for c in dropped if f"{c}_input" in out.columns and c not in out.columns}
    return out.rename(columns=back)


def _renamed(corpus: Any, taken: set[str]) -> Any:
    """Corpus metadata columns named like an output column are kept as ``<name>_input``."""
    names: dict[str, str] = {}
    for c in corpus.columns:
        if c in taken and c not in ("doc_id", "text"):
            new, k = f"{c}_input", 2
            while new in taken or new in corpus.columns:
                new, k = f"{c}_input{k}", k + 1
            names[c] = new
    return corpus.rename(columns=names)


def substantive_rows(corpus: Any) -> int:
    """The comments that will be embedded and suggested (a usable ``status``: ok or truncated)."""
    from themeassist._schema import USABLE_STATUSES

    return int(corpus["status"].isin(USABLE_STATUSES).sum()) if "status" in corpus.columns else len(corpus)


def scale_note(args: argparse.Namespace, n: int) -> str | None:
    """What embedding ``n`` comments with the default model costs, and the fast path; None when few
    or another model was chosen. Measured on 2 CPU cores: MiniLM embeds 100-300 comments a second
    (long to short), the static model about 20,000, at a macro-F1 cost of at most 0.015."""
    if args.model not in (None, "minilm") or n <= MINILM_NOTE_ROWS:
        return None
    return (f"note: {n:,} comments to embed with MiniLM (the default) take about {n / 300 / 60:.0f} to "
            f"{n / 100 / 60:.0f} minutes on 2 CPU cores, unless they are in the embedding cache (--cache-dir); a stopped "
            "run resumes when the same command is run again. --model static embeds them in a minute or two, at a cost "
            "of at most 0.015 macro-F1 on the NHS benchmark.")


def _check_before_work(args: argparse.Namespace, quality_out: str | None) -> None:
    """Every option and output problem, found before any work: what needs held-out examples has
    them, the outputs are writable files that are not the inputs, and ``--quality-out`` is not ``--out``."""
    if (args.target_recall is not None or args.auto_accept is not None or quality_out) \
            and not (args.examples or args.decisions):
        from themeassist.exceptions import CorpusError

        flag = ("--target-recall" if args.target_recall is not None else
                "--auto-accept" if args.auto_accept is not None else "--quality-out")
        raise CorpusError(f"{flag} is learnt from held-out coded examples and there are none (zero-shot: no "
                          f"guarantee can be stated); pass --examples CODED.csv (or --decisions), or drop {flag}.")
    inputs = input_files(args, "input", "examples", "decisions", "codebook")
    check_out(args.out, suffixes=(".csv", ".xlsx", ".parquet"), inputs=inputs)
    keep_coder_work(args.out, ["decision", "final_codes"], overwrite=args.overwrite)
    check_out(quality_out, suffixes=(".csv", ".xlsx", ".parquet"), inputs=inputs)
    if quality_out and os.path.abspath(quality_out) == os.path.abspath(args.out):
        from themeassist.exceptions import OutputError

        raise OutputError(f"--quality-out {quality_out!r} is the --out file; pass another path (e.g. quality.csv).")


def run(args: argparse.Namespace) -> int:
    quality_out = getattr(args, "quality_out", None)
    _check_before_work(args, quality_out)
    if args.run_dir is not None and args.engine == "local":
        from themeassist.batch.chunked import check_run_folder

        check_run_folder(args.run_dir)
    with warnings.catch_warnings():  # suggest writes a 'date' column under its own name (_input_columns)
        warnings.filterwarnings("ignore", message="load_corpus: input column 'date' is kept as 'date_input'")
        corpus = maybe_redact(load(args), args)
    substantive = substantive_rows(corpus)
    if (note := scale_note(args, substantive)) is not None:
        print(note, file=sys.stderr)
    from themeassist._schema import EXAMPLE_CODES_COLUMN

    mapper, examples, coded = fitted_mapper(args)
    matched = _match_coded(corpus, coded, mapper)
    said, quality = expected_quality(mapper, n_new=substantive - _coded_among(corpus, matched))
    print(said)
    if quality_out and quality is not None:
        from themeassist.io.tables import write_table

        write_table(quality.table, quality_out)
        print(f"held-out agreement per theme written to {quality_out}")
    texts = dict(zip(corpus["doc_id"].astype(str), corpus["text"]))
    doubt = doubt_columns(args, mapper, examples)

    def review(suggestions: Any) -> Any:
        # the coder edits this file: decision = accept / reject / recode, final_codes for recodes
        # keep the text and the input's metadata columns (periods, groups) beside the suggestions
        known, notes = None, []
        # the examples, then the coder's decisions (a later decision wins)
        for table, col, how in _aligned(suggestions, corpus, matched, mapper, texts):
            if col is not None:
                known = col if known is None else col.where(col != "", known)
                what = "coded examples" if table is coded[0] and args.examples else "decided by the coder"
                found, rows = int((col != "").sum()), _coded_rows(table)
                stray = 0 if how == "text" else int((~table["doc_id"].astype(str).isin(
                    set(suggestions["doc_id"].astype(str)))).sum())
                unmatched = (f"; {rows - found} are not: their text is not among the comments or several comments "
                             "share it, so example_codes leaves them blank" if how == "text" and rows > found else
                             f"; {stray} name a doc_id that is not among the comments: learnt from, marked on no "
                             "comment" if stray else "")
                notes.append(f"{found} {what} (matched by {how}{unmatched})")
        if known is not None:  # comments coded already: never reviewed or audited again
            suggestions = suggestions.assign(**{EXAMPLE_CODES_COLUMN: known})
            print(f"comments coded already: {', '.join(notes)}; their codes are in {EXAMPLE_CODES_COLUMN}: audit "
                  "never draws them and drift --audit counts them as coded"
                  + ("; drift takes them for a random sample of their period unless their codes say otherwise: "
                     "decided comments picked from the review queue are not one, so with many of them pass "
                     "drift --examples-chosen" if args.decisions else ""))
        suggestions = doubt(suggestions)  # --target-recall, --auto-accept, --review-order columns
        meta = _input_columns(corpus, keep_period=bool(args.period_col))
        meta = _renamed(meta, set(suggestions.columns) | set(REVIEW_COLUMNS))
        extra = ["doc_id", "text"] + [c for c in meta.columns if c not in suggestions.columns
                                      and c not in ("doc_id", "text")]
        out = suggestions.merge(meta[extra], on="doc_id", how="left", validate="one_to_one")
        out = out.assign(**{c: "" for c in REVIEW_COLUMNS})
        if getattr(args, "redact", False) and "evidence" in out.columns:
            out = redact_text(out, args, columns=["evidence"], what=None)  # quotes of the coded examples
        return out

    if args.engine == "dask":
        from themeassist.batch import suggest_dask
        from themeassist.io.tables import write_table

        out = suggest_dask(mapper, corpus, scheduler=args.scheduler, n_workers=args.workers,
                           partition_size=args.partition_size)
        path = write_table(review(out), args.out)
    else:
        from themeassist.batch import resumable_suggest

        resumable_suggest(mapper, corpus, args.out, run_dir=args.run_dir, chunk_size=args.chunk_size,
                          finalize=review, log=None if args.quiet else (lambda m: print(m, file=sys.stderr)))
        path = Path(args.out)
    print(f"{len(corpus)} rows ({mapper.regime_} regime) written to {path}")
    return 0
