"""Split-brain autoencoders (notebook 07): cross-channel networks on CIFAR-10, probed layer by layer.

The method -- the two halves, their losses, the concatenation -- is ``course_lib.pretext.split_brain`` (Zhang,
Isola & Efros, CVPR 2017). This module runs the notebook's experiment:

* ``NETWORKS``      every network trained, by row name: the half-width halves L -> ab and ab -> L with each loss,
                    the same two tasks at full width, a Lab -> Lab autoencoder and a supervised network;
* ``train_all``     trains them all from unlabelled Lab images (the supervised one from labels), each from
                    its own seeded initial weights, for the same number of steps;
* ``backbones``     the rows of the table, as feature extractors that all read scaled Lab: random init, the
                    halves, the split-brain concatenations (two halves trained independently, side by side, as in
                    the paper), the full-width single-task networks, the autoencoder, supervised;
* ``probe_table``   the layer-wise linear probe (``evaluate.layerwise_probe``: conv1 ... conv5 pooled to equal
                    size) of every row; ``plot_layers`` draws it beside the paper's Table 2 rows.

Random-init convolutional features are a strong baseline at this scale; the table shows where the methods beat it.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd
import torch

from course_lib import checks, evaluate, nets, papers, show, train
from course_lib.config import Profile
from course_lib.pretext import colorization as col
from course_lib.pretext import split_brain as sb

RANDOM = "random init"
PROBE_DIM = 512  # every layer average-pooled to at most this many numbers: 45 probes must fit the time budget


@dataclass(frozen=True)
class Network:
    """One trained network: its cross-channel task (or "labels"), its loss, and whether it is half width."""

    task: str  # "l_ab", "ab_l", "lab_lab", or "labels" (the supervised baseline)
    loss: str  # "cl" or "reg" ("reg" for the autoencoder, "cl" = cross-entropy for the supervised one)
    half: bool  # half width: one half of a split-brain network

    def width(self, profile: Profile) -> int:
        return profile.split_width // 2 if self.half else profile.split_width


NETWORKS = {
    "L→ab (cl), half": Network("l_ab", "cl", half=True),
    "ab→L (cl), half": Network("ab_l", "cl", half=True),
    "L→ab (reg), half": Network("l_ab", "reg", half=True),
    "ab→L (reg), half": Network("ab_l", "reg", half=True),
    "L→ab (cl), full width": Network("l_ab", "cl", half=False),
    "ab→L (cl), full width": Network("ab_l", "cl", half=False),
    "Lab→Lab autoencoder": Network("lab_lab", "reg", half=False),
    "supervised (labels)": Network("labels", "cl", half=False),
}
# the rows of the table, in order, and their names in recorded metrics (probe_<key>_<layer>)
KEYS = {RANDOM: "random", "L→ab (cl), half": "l_ab", "ab→L (cl), half": "ab_l",
        "split-brain (cl,cl)": "split_brain_cl", "split-brain (reg,reg)": "split_brain_reg",
        "L→ab (cl), full width": "l_ab_full", "ab→L (cl), full width": "ab_l_full",
        "Lab→Lab autoencoder": "autoencoder", "supervised (labels)": "supervised"}
# the paper's Table 2 rows (papers.py) that stand beside ours
PAPER_ROWS = {"ImageNet labels": "supervised (labels)", "split-brain (cl,cl)": "split-brain (cl,cl)",
              "colorization (Zhang et al. 2016)": "L→ab (cl), full width", "Gaussian init": RANDOM}


def in_channels(task: str) -> int:
    return {"l_ab": 1, "ab_l": 2, "lab_lab": 3, "labels": 3}[task]


def out_channels(network: Network, q: int) -> int:
    """Outputs of the cross-channel head: Q ab bins or 2 ab values; L_BINS lightness bins or 1 value; Lab: 3."""
    if network.task == "lab_lab":
        return 3
    if network.task == "l_ab":
        return q if network.loss == "cl" else 2
    return sb.L_BINS if network.loss == "cl" else 1


def initial_backbone(in_ch: int, width: int, seed: int, device) -> nets.Backbone:
    """Seeded initial weights: the same seed gives the same start for a given shape."""
    torch.manual_seed(seed)
    return nets.Backbone(in_ch, width).to(device)


def train_network(network: Network, lab: torch.Tensor, labels: torch.Tensor, centres: torch.Tensor,
                  profile: Profile, seed: int = 0, desc: str = "", progress: bool = True):
    """Train one network on scaled Lab images; returns (its backbone, the training history)."""
    backbone = initial_backbone(in_channels(network.task), network.width(profile), seed, lab.device)
    options = dict(steps=profile.split_steps, max_seconds=profile.split_seconds, desc=desc, progress=progress)
    torch.manual_seed(seed)
    if network.task == "labels":
        model = nets.Classifier(backbone, 10).to(lab.device).to(memory_format=torch.channels_last)
        history = train.train_classifier(model, lab, labels, batch_size=profile.batch_size, seed=seed, **options)
        return backbone.eval(), history
    model = sb.CrossChannel(network.task, backbone, out_channels(network, len(centres)), lab.shape[-1])
    model = model.to(lab.device).to(memory_format=torch.channels_last)

    def loss(m, batch):
        return sb.cross_channel_loss(m, batch, network.loss, centres)

    history = train.fit(model, train.batches(lab, batch_size=profile.batch_size, seed=seed), loss, **options)
    return backbone.eval(), history


def train_all(lab: torch.Tensor, labels: torch.Tensor, centres: torch.Tensor, profile: Profile, seed: int = 0,
              progress: bool = True):
    """Every network of ``NETWORKS``: ({name: backbone}, {name: history})."""
    runs = {name: train_network(network, lab, labels, centres, profile, seed, name, progress)
            for name, network in NETWORKS.items()}
    return {name: run[0] for name, run in runs.items()}, {name: run[1] for name, run in runs.items()}


def backbones(trained: dict[str, nets.Backbone], profile: Profile, seed: int = 0) -> dict:
    """The table's rows as feature extractors of scaled Lab, in ``KEYS`` order."""
    def reads(name):
        return sb.SPLITS[NETWORKS[name].task][0] if NETWORKS[name].task != "labels" else slice(0, 3)

    device = next(iter(trained.values())).stages["conv1"][0].weight.device
    rows = {RANDOM: sb.InputChannels(initial_backbone(3, profile.split_width, seed, device).eval(), slice(0, 3))}
    for name in KEYS:
        if name in trained:
            rows[name] = sb.InputChannels(trained[name], reads(name))
    rows["split-brain (cl,cl)"] = sb.SplitBrain(trained["L→ab (cl), half"], trained["ab→L (cl), half"])
    rows["split-brain (reg,reg)"] = sb.SplitBrain(trained["L→ab (reg), half"], trained["ab→L (reg), half"])
    return {name: rows[name] for name in KEYS}


def probe_table(rows: dict, labelled, test) -> pd.DataFrame:
    """Linear-probe accuracy (%) of every row (network) at every layer, and its best layer."""
    (x, y), (x_test, y_test) = labelled, test
    table = pd.DataFrame({name: evaluate.layerwise_probe(extractor, x, y, x_test, y_test, target_dim=PROBE_DIM)
                          for name, extractor in rows.items()}).T[list(nets.STAGES)]
    table["best"] = table[list(nets.STAGES)].max(axis=1)
    table["best layer"] = table[list(nets.STAGES)].idxmax(axis=1)
    return table


def feature_sizes(rows: dict, lab: torch.Tensor) -> pd.DataFrame:
    """Channels and pooled feature size of each row at each layer: the probes compare equal-size features."""
    sample = {name: evaluate.stage_features(extractor, lab[:2], target_dim=PROBE_DIM)
              for name, extractor in rows.items()}
    return pd.DataFrame({name: {stage: f"{extractor.channels[stage]} ch -> {sample[name][stage].shape[1]}"
                                for stage in nets.STAGES} for name, extractor in rows.items()}).T


def paper_table() -> pd.DataFrame:
    """The paper's Table 2 rows quoted in ``papers.py`` (ImageNet top-1 %, conv1 ... conv5)."""
    numbers = papers.reported("zhang2017")
    table = pd.DataFrame({row: {stage: numbers[f"{row}, {stage}"] for stage in nets.STAGES} for row in PAPER_ROWS}).T
    table.attrs["caption"] = papers.cite("zhang2017")
    return table


def plot_layers(table: pd.DataFrame, paper: pd.DataFrame):
    """Accuracy against layer: ours (CIFAR-10) on the left, the paper's Table 2 rows (ImageNet) on the right."""
    fig, (ours, theirs) = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [1.4, 1]})
    for name, row in table.iterrows():
        style = "--" if name in (RANDOM, "supervised (labels)") else ":" if "full width" in name else "-"
        ours.plot(nets.STAGES, [row[s] for s in nets.STAGES], style, marker="o", label=name)
    for name, row in paper.iterrows():
        theirs.plot(nets.STAGES, row.values, "--" if name in ("ImageNet labels", "Gaussian init") else "-",
                    marker="o", label=name)
    ours.set(title="ours: CIFAR-10, linear probe", ylabel="test accuracy (%)")
    theirs.set(title="paper, Table 2: ImageNet (not checked)", ylabel="top-1 accuracy (%)")
    for ax in (ours, theirs):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return show.finish(fig)


def show_training(histories: dict[str, train.History]):
    """Each network's training loss (different losses and tasks: compare shapes, not heights)."""
    fig, axes = plt.subplots(2, 4, figsize=(12, 4.6), squeeze=False)
    for ax, (name, history) in zip(axes.flat, histories.items(), strict=True):
        ax.plot(history.step, history["loss"])
        ax.set_title(name, fontsize=8)
        ax.grid(alpha=0.3)
    return show.finish(fig)


@torch.no_grad()
def show_task(rgb: torch.Tensor):
    """The two cross-channel tasks as pictures: the photo, L (F_1's input, F_2's target), ab at constant lightness
    (F_1's target, F_2's input)."""
    lightness, ab = col.split_lab(rgb)
    rows = {"photo X": rgb, "X_1 = L": col.grey(rgb), "X_2 = ab": col.to_rgb(torch.full_like(lightness, 65.0), ab)}
    return show.image_rows(rows)


def metrics(table: pd.DataFrame) -> dict[str, float]:
    """probe_<method>_<layer> for every cell of the table."""
    return {f"probe_{KEYS[name]}_{stage}": float(row[stage]) for name, row in table.iterrows()
            for stage in nets.STAGES}


# --- exercise checker -------------------------------------------------------------------------------------------

def check_concatenation(fn) -> None:
    """Exercise: ``fn(first, second)`` concatenates two halves' feature maps (N x C x H x W each) into F(X)."""
    torch.manual_seed(0)
    first, second = torch.randn(2, 3, 4, 4), torch.randn(2, 5, 4, 4)
    got = torch.as_tensor(fn(first, second))
    want = torch.cat([first, second], dim=1)
    checks.exercise("split-brain features", got.shape == want.shape and torch.equal(got, want),
                    f"expected shape {tuple(want.shape)} (channels side by side, first half first), got "
                    f"{tuple(got.shape)}: concatenate along dim 1, the channel axis")
