"""Notebook 08's evaluation: linear probes of digit labels at every stage of every frozen tower, cross-modal
retrieval, the shortcut lab in numbers, the purity of the sound clusters, the metrics to record, and the orderings
the notebook states on them (its table over pretraining seeds)."""

from __future__ import annotations

import pandas as pd
import torch

from course_lib import audio, evaluate, nets, seeds, train
from course_lib.lessons.sound_supervision.training import avc_accuracy
from course_lib.lessons.sound_supervision.videos import (
    FUSIONS,
    OWENS,
    RANDOM,
    SUPERVISED,
    Sizes,
    SoundsAndImages,
)
from course_lib.pretext import audio_visual as av

LABELS_PER_CLASS = 10  # the image probe's labelled examples per digit (100 in all)


def image_probe_sets(d: SoundsAndImages, sizes: Sizes, seed: int = 0):
    """((training pool x, y), (validation x, y), (test x, y)) of the image probe: ``sizes.validation`` training
    images held out to choose the layer on, the rest the pool the labelled draws come from, the MNIST test images."""
    pool, validation = evaluate.split_validation(d.images, d.image_digits, sizes.validation, seed)
    return pool, validation, (d.test_images, d.test_image_digits)


def audio_probe_sets(d: SoundsAndImages):
    """((training x, y), (validation x, y), (test x, y)) of the audio probe: the training recordings of every voice
    but ``VALIDATION_SPEAKER``, that voice's recordings (the layer is chosen on a voice the probe has not heard, as
    the test voice is unheard), the held-out recordings."""
    held = audio.said_by(d.spoken.speaker, device=d.sounds.device)  # VALIDATION_SPEAKER's
    digits = d.sound_digits
    return ((d.sounds[~held], digits[~held]), (d.sounds[held], digits[held]), (d.test_sounds, d.test_sound_digits))


def _probe_towers(backbones: dict, sets, per_class: int | None, sizes: Sizes, seed: int) -> pd.DataFrame:
    """``evaluate.probe_table`` of the towers that are there (a ``None`` tower has no row); each layer's probe C
    chosen on validation (of ``sizes.probe_cs``) as the layer is, over ``sizes.label_draws`` draws; the random-init
    tower at its best read (as initialised or BatchNorm recalibrated, chosen on validation:
    ``evaluate.random_at_its_best``)."""
    present = {name: tower for name, tower in backbones.items() if tower is not None}
    return evaluate.probe_table(present, *sets, per_class=per_class, draws=sizes.label_draws, seed=seed,
                                random_row=RANDOM, Cs=sizes.probe_cs)


def image_probes(image_towers: dict[str, nets.Backbone | None], d: SoundsAndImages, sizes: Sizes,
                 seed: int = 0) -> pd.DataFrame:
    """Linear-probe accuracy (%) of digit labels at every stage of each frozen image tower (rows), with
    ``LABELS_PER_CLASS`` labelled images per digit, mean over ``sizes.label_draws`` labelled draws; each row's layer
    chosen on the validation images (``evaluate.layer_table``'s columns)."""
    return _probe_towers(image_towers, image_probe_sets(d, sizes, seed), LABELS_PER_CLASS, sizes, seed)


def audio_probes(audio_towers: dict[str, nets.Backbone | None], d: SoundsAndImages, sizes: Sizes,
                 seed: int = 0) -> pd.DataFrame:
    """Linear-probe accuracy (%) of digit labels at every stage of each frozen audio tower, as ``image_probes``:
    ``LABELS_PER_CLASS`` labelled recordings per digit from the training voices but the validation voice, mean over
    ``sizes.label_draws`` draws, the layer chosen on the validation voice, tested on the held-out voice."""
    return _probe_towers(audio_towers, audio_probe_sets(d), LABELS_PER_CLASS, sizes, seed)


def probe_summary(image: pd.DataFrame, sound: pd.DataFrame) -> pd.DataFrame:
    """Both probes at each row's chosen layer, as "mean ± std (layer, C, read)" text: one line per model."""
    def cell(table, row):
        if row not in table.index:
            return "-"
        C = f"C {table.loc[row, evaluate.PROBE_C_COLUMN]:g}" if evaluate.PROBE_C_COLUMN in table.columns else ""
        where = ", ".join(filter(None, (table.loc[row, evaluate.BEST_LAYER], C, evaluate.read_of(table, row))))
        return f"{evaluate.best_of(table, row).text()} ({where})"

    rows = list(dict.fromkeys([*image.index, *sound.index]))
    return pd.DataFrame({f"image probe, {10 * LABELS_PER_CLASS} labels": [cell(image, r) for r in rows],
                         f"audio probe, {10 * LABELS_PER_CLASS} labels": [cell(sound, r) for r in rows]}, index=rows)


def compare_rows(image: pd.DataFrame, sound: pd.DataFrame, a: str, b: str, names: tuple[str, str]) -> list[str]:
    """Two rows of both probe tables compared at their chosen layers (``evaluate.compare_text``): which is higher,
    or "no difference at this scale" when the gap is inside the spread of the labelled draws."""
    return [f"{tower} probe: " + evaluate.compare_text(evaluate.best_of(table, a), evaluate.best_of(table, b), names)
            for tower, table in (("image", image), ("audio", sound))]


def retrieval_table(models: dict, d: SoundsAndImages) -> pd.DataFrame:
    """Recall@1 audio -> image (each held-out recording queries the MNIST test images; a hit is an image of the
    spoken digit), ranked by the model's own correspondence score of every pair, and by the cosine of the two
    embeddings the model fuses (for AVE-Net the same ranking as its score; for concatenation, the pooled towers)."""
    chance = av.chance_recall(d.test_sound_digits.cpu(), d.test_image_digits.cpu())
    rows = {}
    for name, model in models.items():
        a, v = evaluate.embed(model.embed_audio, d.test_sounds), evaluate.embed(model.embed_image, d.test_images)
        rows[name] = {
            "recall@1, the model's score": evaluate.recall_at_k(
                av.pair_scores(model.cpu(), a, v), d.test_sound_digits, d.test_image_digits),
            "recall@1, cosine of the embeddings": evaluate.recall_at_k(
                av.cosine_scores(a, v), d.test_sound_digits, d.test_image_digits),
            "chance": chance}
        model.to(d.images.device)
    return pd.DataFrame(rows).T


SHORTCUT_ROWS = ("positives padded at the start (shortcut)", "both sampled the same way (fixed)")


def shortcut_table(fair_model, shortcut_model, d: SoundsAndImages, sizes: Sizes, seed: int = 0) -> pd.DataFrame:
    """The shortcut lab in numbers: each model's AVC accuracy on test pairs made the way it was trained and made
    the fair way, and the probes of its towers at their chosen layers (as ``image_probes`` / ``audio_probes``), each
    with the std over the labelled draws in the column after it."""
    runs = dict(zip(SHORTCUT_ROWS, ((shortcut_model, True), (fair_model, False)), strict=True))
    columns = {
        "AVC accuracy, test pairs made as in training": [avc_accuracy(m, d, seed, s) for m, s in runs.values()],
        "AVC accuracy, fair test pairs": [avc_accuracy(m, d, seed) for m, _ in runs.values()],
    }
    probes = {"image": image_probes({name: m.image_tower for name, (m, _) in runs.items()}, d, sizes, seed),
              "audio": audio_probes({name: m.audio_tower for name, (m, _) in runs.items()}, d, sizes, seed)}
    for tower, table in probes.items():
        best = [evaluate.best_of(table, name) for name in runs]
        columns[f"{tower} probe, {10 * LABELS_PER_CLASS} labels"] = [float(b) for b in best]
        columns[f"{tower} probe ±"] = [b.std for b in best]
    return pd.DataFrame(columns, index=list(runs))


def shortcut_probes(shortcut: pd.DataFrame, tower: str) -> tuple[evaluate.Spread, evaluate.Spread]:
    """(shortcut run, fixed run) probe of one ``tower`` ("image" or "audio") from ``shortcut_table``, as Spreads."""
    mean, std = shortcut[f"{tower} probe, {10 * LABELS_PER_CLASS} labels"], shortcut[f"{tower} probe ±"]
    return tuple(evaluate.Spread(float(mean[row]), float(std[row]), 2) for row in SHORTCUT_ROWS)


def cluster_table(clusters: torch.Tensor, d: SoundsAndImages, seed: int = 0) -> pd.DataFrame:
    """How much of *what* is said and of *who* says it the sound clusters capture: purity (1 = every cluster holds
    one digit, or one voice), beside the purity of as many random clusters of the same recordings."""
    speakers = sorted(set(d.spoken.speaker))
    truths = {"digit (what is said)": d.sound_digits.cpu(),
              "speaker (who says it)": torch.tensor([speakers.index(s) for s in d.spoken.speaker])}
    shuffled = clusters[torch.randperm(len(clusters), generator=torch.Generator().manual_seed(seed))]
    columns = {"purity of the sound clusters": clusters, "purity of random clusters": shuffled}
    return pd.DataFrame({column: {k: evaluate.cluster_purity(c, t) for k, t in truths.items()}
                         for column, c in columns.items()})


# --- metrics ------------------------------------------------------------------------------------------------------

def capped_runs(histories: dict[str, train.History]) -> list[str]:
    """The names of the runs that stopped at their time cap (for ``session.record(capped=...)`` and the claims)."""
    return [name for name, history in histories.items() if history.capped]


def metrics(avc: dict[str, float], image: pd.DataFrame, sound: pd.DataFrame, retrieval: pd.DataFrame,
            shortcut: pd.DataFrame) -> dict[str, float]:
    """The numbers to record (the concatenation model is *the* AVC model, as in L3-Net's paper): probes at each
    row's chosen layer (mean, and the std over labelled draws for the image probe), recall@1, AVC accuracy, the
    AVE-Net's, Owens', the supervised reference's and the shortcut run's, and which read of the random towers was
    kept."""
    score, cosine = "recall@1, the model's score", "recall@1, cosine of the embeddings"
    short = SHORTCUT_ROWS[0]
    out = {
        "avc_accuracy": avc[FUSIONS[0]],
        "avc_accuracy_ave": avc[FUSIONS[1]],
        "recall1_audio_to_image_concat": retrieval.loc[FUSIONS[0], score],
        "recall1_audio_to_image_ave": retrieval.loc[FUSIONS[1], score],
        "recall1_cosine_concat": retrieval.loc[FUSIONS[0], cosine],
        "recall1_cosine_ave": retrieval.loc[FUSIONS[1], cosine],
        "avc_accuracy_shortcut_own_pairs": shortcut.loc[short, "AVC accuracy, test pairs made as in training"],
        "avc_accuracy_shortcut_fair_pairs": shortcut.loc[short, "AVC accuracy, fair test pairs"],
        "probe_image_100_shortcut": shortcut.loc[short, f"image probe, {10 * LABELS_PER_CLASS} labels"],
        "probe_image_100_shortcut_std": shortcut.loc[short, "image probe ±"],
        "probe_audio_shortcut": shortcut.loc[short, f"audio probe, {10 * LABELS_PER_CLASS} labels"],
        "probe_audio_shortcut_std": shortcut.loc[short, "audio probe ±"],
    }
    if SUPERVISED in retrieval.index:
        out["recall1_audio_to_image_supervised"] = retrieval.loc[SUPERVISED, score]
    names = {FUSIONS[0]: "trained", FUSIONS[1]: "ave", RANDOM: "random", OWENS: "owens", SUPERVISED: "supervised"}
    for row, short_name in names.items():
        if row in image.index:
            best = evaluate.best_of(image, row)
            out[f"probe_image_100_{short_name}"], out[f"probe_image_100_{short_name}_std"] = best, best.std
        if row in sound.index:
            best = evaluate.best_of(sound, row)
            out[f"probe_audio_{short_name}"], out[f"probe_audio_{short_name}_std"] = best, best.std
    for tower, table in (("image", image), ("audio", sound)):  # 1 where the recalibrated random read was chosen
        if RANDOM in table.index:
            out[f"probe_{tower}_random_recalibrated"] = float(evaluate.read_of(table, RANDOM) == evaluate.RECALIBRATED)
    return {k: float(v) for k, v in out.items()}


# Every ordering the notebook states, on the metrics it records, for its table over pretraining seeds
# (``seeds.table(NOTEBOOK, ORDERINGS)``): the claims it asserts first, then what it only reports. "trained" is the
# concatenation model (L3-Net), "ave" the AVE-Net. A tie the text states ("no difference") is an ordering too: its
# verdict should then read "no difference".
ORDERINGS = [
    *(seeds.Ordering(f"{fusion}: the trained {tower} tower beats its random init (probe, 10 labels per digit)",
                     f"{probe}_{key}", f"{probe}_random")
      for fusion, key in zip(FUSIONS, ("trained", "ave"), strict=True)
      for tower, probe in (("image", "probe_image_100"), ("audio", "probe_audio"))),
    seeds.Ordering("AVE-Net's embeddings share a space, concatenation's do not (recall@1 by cosine)",
                   "recall1_cosine_ave", "recall1_cosine_concat"),
    seeds.Ordering("the shortcut wins its own pairs (AVC, pairs made as in training)",
                   "avc_accuracy_shortcut_own_pairs", "avc_accuracy"),
    seeds.Ordering("the fixed model beats the shortcut on fair pairs (AVC)", "avc_accuracy",
                   "avc_accuracy_shortcut_fair_pairs"),
    seeds.Ordering("the shortcut's image tower probes lower than the fixed one's", "probe_image_100_trained",
                   "probe_image_100_shortcut"),
    seeds.Ordering("the shortcut's audio tower probes lower than the fixed one's", "probe_audio_trained",
                   "probe_audio_shortcut"),
    seeds.Ordering("the shortcut's image tower is a little above the random init (probe)", "probe_image_100_shortcut",
                   "probe_image_100_random"),
    seeds.Ordering("the shortcut's audio tower vs the random init read at its best (probe): no better",
                   "probe_audio_random", "probe_audio_shortcut"),
    seeds.Ordering("classes from sound: the image tower beats its random init (probe)", "probe_image_100_owens",
                   "probe_image_100_random"),
    seeds.Ordering("concatenation teaches the image tower a little more than classes from sound (probe)",
                   "probe_image_100_trained", "probe_image_100_owens"),
    seeds.Ordering("the supervised reference is the ceiling: image probe, above both AVC towers",
                   "probe_image_100_supervised", ("probe_image_100_trained", "probe_image_100_ave")),
    seeds.Ordering("the supervised reference is the ceiling: audio probe, above concatenation's tower",
                   "probe_audio_supervised", "probe_audio_trained"),
    seeds.Ordering("AVE-Net's audio tower vs the supervised one: no difference", "probe_audio_supervised",
                   "probe_audio_ave"),
    seeds.Ordering("the two fusions, image probe (concatenation over AVE-Net): no difference",
                   "probe_image_100_trained", "probe_image_100_ave"),
    seeds.Ordering("the two fusions, audio probe (AVE-Net over concatenation): no difference", "probe_audio_ave",
                   "probe_audio_trained"),
    seeds.Ordering("AVE-Net retrieves as well as the supervised reference (recall@1, the model's score)",
                   "recall1_audio_to_image_ave", "recall1_audio_to_image_supervised"),
]
