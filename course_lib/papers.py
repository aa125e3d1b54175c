"""The lecture's papers and the numbers it shows from them, as data.

Each number carries where it comes from. ``checked`` says whether the figure was confirmed against the paper's
own table by a course author; unchecked figures are the lecture slides' (as quoted in the course plan) and the
notebooks print them with that caveat, never as fact. ``side_by_side`` puts a paper's numbers beside ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from course_lib import show


@dataclass(frozen=True)
class Paper:
    authors: str
    title: str
    venue: str
    year: int
    url: str

    def citation(self) -> str:
        return f"{self.authors}. {self.title}. {self.venue}, {self.year}. {self.url}"


@dataclass(frozen=True)
class Reported:
    """One number a paper reports (as the lecture shows it)."""

    paper: str  # key into PAPERS
    what: str
    value: float
    unit: str
    where: str  # table / figure / slide
    checked: bool = False


PAPERS: dict[str, Paper] = {
    "krizhevsky2012": Paper("A. Krizhevsky, I. Sutskever, G. E. Hinton",
                            "ImageNet Classification with Deep Convolutional Neural Networks", "NeurIPS", 2012,
                            "https://papers.nips.cc/paper/4824"),
    "yosinski2014": Paper("J. Yosinski, J. Clune, Y. Bengio, H. Lipson",
                          "How transferable are features in deep neural networks?", "NeurIPS", 2014,
                          "https://arxiv.org/abs/1411.1792"),
    "doersch2015": Paper("C. Doersch, A. Gupta, A. A. Efros",
                         "Unsupervised Visual Representation Learning by Context Prediction", "ICCV", 2015,
                         "https://arxiv.org/abs/1505.05192"),
    "agrawal2015": Paper("P. Agrawal, J. Carreira, J. Malik", "Learning to See by Moving", "ICCV", 2015,
                         "https://arxiv.org/abs/1505.01596"),
    "misra2016": Paper("I. Misra, C. L. Zitnick, M. Hebert",
                       "Shuffle and Learn: Unsupervised Learning using Temporal Order Verification", "ECCV", 2016,
                       "https://arxiv.org/abs/1603.08561"),
    "zhang2016": Paper("R. Zhang, P. Isola, A. A. Efros", "Colorful Image Colorization", "ECCV", 2016,
                       "https://arxiv.org/abs/1603.08511"),
    "zhang2017": Paper("R. Zhang, P. Isola, A. A. Efros",
                       "Split-Brain Autoencoders: Unsupervised Learning by Cross-Channel Prediction", "CVPR", 2017,
                       "https://arxiv.org/abs/1611.09842"),
    "owens2016": Paper("A. Owens, J. Wu, J. H. McDermott, W. T. Freeman, A. Torralba",
                       "Ambient Sound Provides Supervision for Visual Learning", "ECCV", 2016,
                       "https://arxiv.org/abs/1608.07017"),
    "arandjelovic2017": Paper("R. Arandjelović, A. Zisserman", "Look, Listen and Learn", "ICCV", 2017,
                              "https://arxiv.org/abs/1705.08168"),
    "arandjelovic2018": Paper("R. Arandjelović, A. Zisserman", "Objects that Sound", "ECCV", 2018,
                              "https://arxiv.org/abs/1712.06651"),
    "chung2017": Paper("J. S. Chung, A. Jamaludin, A. Zisserman", "You said that?", "BMVC", 2017,
                       "https://arxiv.org/abs/1705.02966"),
    "hasler2003": Paper("D. Hasler, S. Suesstrunk", "Measuring colourfulness in natural images",
                        "Proc. SPIE 5007, Human Vision and Electronic Imaging VIII", 2003,
                        "https://doi.org/10.1117/12.477378"),
    "chen2020": Paper("T. Chen, S. Kornblith, M. Norouzi, G. Hinton",
                      "A Simple Framework for Contrastive Learning of Visual Representations", "ICML", 2020,
                      "https://arxiv.org/abs/2002.05709"),
}

_SLIDE = "lecture slide"
# The split-brain paper's two linear-classification tables (top-1 %, linear classifiers on frozen AlexNet conv1 ...
# conv5), every row as the lecture slide shows it: "Task Generalization on ImageNet Classification" and "Dataset &
# Task Generalization on Places Classification". Row names are the slide's; "Zhang et al. [49]" is the colorization
# network of Zhang et al. (2016), "Ensembled L→ab" two L→ab networks side by side (the width control).
SPLIT_BRAIN_TABLES = {
    "ImageNet": {
        "ImageNet-labels [26]": (19.3, 36.3, 44.2, 48.3, 50.5),
        "Gaussian": (11.6, 17.1, 16.9, 16.3, 14.1),
        "Krähenbühl et al. [25]": (17.5, 23.0, 24.5, 23.2, 20.6),
        "Noroozi & Favaro [31]": (19.2, 30.1, 34.7, 33.9, 28.3),
        "Doersch et al. [8]": (16.2, 23.3, 30.2, 31.7, 29.6),
        "Donahue et al. [9]": (17.7, 24.5, 31.0, 29.9, 28.0),
        "Pathak et al. [35]": (14.1, 20.7, 21.0, 19.8, 15.5),
        "Zhang et al. [49]": (13.1, 24.8, 31.0, 32.6, 31.8),
        "Lab→Lab": (12.9, 20.1, 18.5, 15.1, 11.5),
        "Lab(drop50)→Lab": (12.1, 20.4, 19.7, 16.1, 12.3),
        "L→ab(cl)": (12.5, 25.4, 32.4, 33.1, 32.0),
        "L→ab(reg)": (12.3, 23.5, 29.6, 31.1, 30.1),
        "ab→L(cl)": (11.6, 19.2, 22.6, 21.7, 19.2),
        "ab→L(reg)": (11.5, 19.4, 23.5, 23.9, 21.7),
        "(L,ab)→(ab,L)": (15.1, 22.6, 24.4, 23.2, 21.1),
        "(L,ab,Lab)→(ab,L,Lab)": (15.4, 22.9, 24.0, 22.0, 18.9),
        "Ensembled L→ab": (11.7, 23.7, 30.9, 32.2, 31.3),
        "Split-Brain Auto (reg,reg)": (17.4, 27.9, 33.6, 34.2, 32.3),
        "Split-Brain Auto (cl,cl)": (17.7, 29.3, 35.4, 35.2, 32.8),
    },
    "Places": {
        "Places-labels [50]": (22.1, 35.1, 40.2, 43.3, 44.6),
        "ImageNet-labels [26]": (22.7, 34.8, 38.4, 39.4, 38.7),
        "Gaussian": (15.7, 20.3, 19.8, 19.1, 17.5),
        "Krähenbühl et al. [25]": (21.4, 26.2, 27.1, 26.1, 24.0),
        "Noroozi & Favaro [31]": (23.0, 32.1, 35.5, 34.8, 31.3),
        "Doersch et al. [8]": (19.7, 26.7, 31.9, 32.7, 30.9),
        "Wang & Gupta [46]": (20.1, 28.5, 29.9, 29.7, 27.9),
        "Owens et al. [33]": (19.9, 29.3, 32.1, 28.8, 29.8),
        "Donahue et al. [9]": (22.0, 28.7, 31.8, 31.3, 29.7),
        "Pathak et al. [35]": (18.2, 23.2, 23.4, 21.9, 18.4),
        "Zhang et al. [49]": (16.0, 25.7, 29.6, 30.3, 29.7),
        "L→ab(cl)": (16.4, 27.5, 31.4, 32.1, 30.2),
        "L→ab(reg)": (16.2, 26.5, 30.0, 30.5, 29.4),
        "ab→L(cl)": (15.6, 22.5, 24.8, 25.1, 23.0),
        "ab→L(reg)": (15.9, 22.8, 25.6, 26.2, 24.9),
        "Split-Brain Auto (cl,cl)": (21.3, 30.7, 34.0, 34.1, 32.5),
    },
}
REPORTED: list[Reported] = [
    # Doersch et al.: the lecture's Ex I, "Average Precision" of R-CNN detection (PASCAL VOC), the slide's three rows
    Reported("doersch2015", "ImageNet labels", 56.8, "% mAP", _SLIDE),
    Reported("doersch2015", "Self-supervised relative positioning", 51.1, "% mAP", _SLIDE),
    Reported("doersch2015", "No pretraining", 45.6, "% mAP", _SLIDE),
    # Misra et al.: action recognition accuracy (%), from the lecture's Ex II
    Reported("misra2016", "UCF101, random initialisation", 38.6, "% accuracy", _SLIDE),
    Reported("misra2016", "UCF101, tuple verification", 50.2, "% accuracy", _SLIDE),
    Reported("misra2016", "UCF101, ImageNet-pretrained", 67.1, "% accuracy", _SLIDE),
    Reported("misra2016", "HMDB51, random initialisation", 13.3, "% accuracy", _SLIDE),
    Reported("misra2016", "HMDB51, UCF101-supervised", 15.2, "% accuracy", _SLIDE),
    Reported("misra2016", "HMDB51, tuple verification", 18.1, "% accuracy", _SLIDE),
    Reported("misra2016", "HMDB51, ImageNet-pretrained", 28.5, "% accuracy", _SLIDE),
    # Arandjelović & Zisserman 2017 (L3-Net) and 2018 (Objects that Sound): no number quoted. The lecture slide
    # shows none of theirs, and the papers' tables could not be checked with the search tool (only third-party
    # summaries were found), so 08 and 09 describe the papers' results in words.
    # the lecture's "simulate training data by transforming images": MNIST error with 100 labels
    Reported("agrawal2015", "MNIST error with 100 labels", 8.7, "% error", _SLIDE),
    # Zhang, Isola & Efros 2017: linear probes layer by layer, on ImageNet and on Places, as on the slide
    *[Reported("zhang2017", f"{dataset}, {row}, conv{i + 1}", value, "% top-1", _SLIDE)
      for dataset, rows in SPLIT_BRAIN_TABLES.items()
      for row, values in rows.items()
      for i, value in enumerate(values)],
]


def cite(key: str) -> str:
    return PAPERS[key].citation()


def reported(key: str) -> dict[str, float]:
    """{what: value} of one paper's numbers."""
    return {r.what: r.value for r in REPORTED if r.paper == key}


def _unchecked_note(number: Reported) -> str:
    return "as on the lecture slide" if number.where == _SLIDE else "not checked against the paper"


def side_by_side(paper: str, rows: Mapping[str, tuple[str | None, float | None]]) -> pd.DataFrame:
    """A "paper vs ours" table. ``rows`` maps a row label to (the name of the paper's number, our number).

    The paper's numbers are looked up here, never retyped in a notebook; those not checked against the paper
    are marked as the lecture slide's.
    """
    numbers = {r.what: r for r in REPORTED if r.paper == paper}
    unknown = [name for name, _ in rows.values() if name is not None and name not in numbers]
    if unknown:
        raise KeyError(f"{paper} reports no number called {unknown}; it has {sorted(numbers)}")
    table = show.paper_vs_ours([
        {"what": label, "paper": numbers[name].value if name else None, "ours": ours,
         "note": "" if name is None or numbers[name].checked else _unchecked_note(numbers[name])}
        for label, (name, ours) in rows.items()
    ])
    table.attrs["caption"] = cite(paper)
    return table
