"""The board's claims, checked on the numbers just measured, and the metrics ``session.record`` keeps."""

from __future__ import annotations

from course_lib import checks, evaluate
from course_lib.lessons.scoreboard.board import methods
from course_lib.lessons.scoreboard.datasets import BUDGETS, DATASETS, FENCES, RANDOM, SUPERVISED
from course_lib.lessons.scoreboard.protocol import READOUTS, RECALIBRATED, Row, accuracy, spread
from course_lib.lessons.scoreboard.tables import best_pretext


def metric_name(dataset: str, budget: int, key: str, readout: str = "linear") -> str:
    """The recorded name of one number: <dataset>_<labels>_<method key>, with _knn for the kNN classifier's."""
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
    return f"{dataset}_{budget}_{key}" + ("_knn" if readout == "kNN" else "")


def metrics(rows: dict[str, Row], dataset: str) -> dict[str, float]:
    """<dataset>_<labels>_<method>: linear-probe accuracy (%) at the layer chosen on validation, mean over the draws;
    with _std its std, with _knn (and _knn_std) the kNN classifier's; for random init also
    <dataset>_<method>_recalibrated (and _knn): 1 where that read-out chose the BatchNorm-recalibrated weights on
    validation, else 0."""
    key = {m.name: m.key for m in methods(dataset)}
    out = {}
    for name, row in rows.items():
        for budget in BUDGETS[dataset]:
            for readout in READOUTS:
                value = accuracy(row, budget, readout)
                stem = metric_name(dataset, budget, key[name], readout)
                out[stem], out[f"{stem}_std"] = float(value), value.std
        for readout, read in row.reads.items():
            suffix = "_knn" if readout == "kNN" else ""
            out[f"{dataset}_{key[name]}_recalibrated{suffix}"] = float(read == RECALIBRATED)
    return out


def draw_scores(rows: dict[str, Row], dataset: str) -> dict[str, list[float]]:
    """Each number of ``metrics`` that is a mean over labelled draws, as its draws in order: every row was read on
    the same draws (``protocol``), so two rows pair draw by draw (``seeds`` tests an ordering on them)."""
    key = {m.name: m.key for m in methods(dataset)}
    return {metric_name(dataset, budget, key[name], readout): list(accuracy(row, budget, readout).values)
            for name, row in rows.items() for budget in BUDGETS[dataset] for readout in READOUTS}


def _claim(statement: str, a: evaluate.Spread, b: evaluate.Spread, names: tuple[str, str], capped_runs,
           asserted: bool = True) -> None:
    """Assert (or, ``asserted=False``, only report: it did not hold on every pretraining seed) that a beats b."""
    check = checks.check_claim if asserted else checks.report_claim
    check(statement, evaluate.beats(a, b), evaluate.compare_text(a, b, names), capped=capped_runs)


def check_claim_pretext_beats_random(rows: dict[str, Row], budget: int, dataset: str, readout: str = "linear",
                                     capped_runs=(), asserted: bool = True) -> None:
    """Claim: the best pretext row beats random init by more than the spread of the draws (``asserted=False``:
    reported only)."""
    best = best_pretext(rows, budget, readout)
    _claim(f"on {DATASETS[dataset]} with {budget:,} labels the best pretext task ({best}) beats random init "
           f"({readout})", accuracy(rows[best], budget, readout), accuracy(rows[RANDOM], budget, readout),
           (best, RANDOM), capped_runs, asserted)


def check_claim_supervised_beats_random(rows: dict[str, Row], budget: int, dataset: str, readout: str = "linear",
                                        capped_runs=()) -> None:
    """Claim: the supervised fence beats random init: the protocol tells a trained network from an untrained one."""
    _claim(f"on {DATASETS[dataset]} with {budget:,} labels the supervised fence beats random init ({readout})",
           accuracy(rows[SUPERVISED], budget, readout), accuracy(rows[RANDOM], budget, readout),
           (SUPERVISED, RANDOM), capped_runs)


def check_every_pretext_beats_random(rows: dict[str, Row], budget: int, dataset: str, readout: str = "kNN",
                                     capped_runs=()) -> None:
    """Claim: every pretext row beats random init under ``readout`` (the weakest of them named as evidence)."""
    pretext = [name for name in rows if name not in FENCES]
    weakest = min(pretext, key=lambda name: float(accuracy(rows[name], budget, readout)) - spread(rows[name], budget,
                                                                                                   readout))
    base = accuracy(rows[RANDOM], budget, readout)
    holds = all(evaluate.beats(accuracy(rows[name], budget, readout), base) for name in pretext)
    checks.check_claim(f"on {DATASETS[dataset]} with {budget:,} labels every pretext task beats random init "
                       f"({readout})", holds, "weakest: " + evaluate.compare_text(
                           accuracy(rows[weakest], budget, readout), base, (weakest, RANDOM)), capped=capped_runs)
