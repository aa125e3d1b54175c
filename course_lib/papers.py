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
_RECALLED = "recalled by a course author, not yet checked against the paper"
_ZHANG2017_T2 = "Table 2 (ImageNet, linear classifiers on frozen AlexNet conv1 ... conv5), " + _RECALLED
# Split-brain Table 2, the rows quoted by notebooks 06 and 07 (top-1 %, conv1 ... conv5). Only the rows a course
# author could recall with confidence; the colorization row is the one Zhang et al. (2016) report for their network.
_SPLIT_BRAIN_ROWS = {
    "ImageNet labels": (19.3, 36.3, 44.2, 48.3, 50.5),
    "Gaussian init": (11.6, 17.1, 16.9, 16.3, 14.1),
    "colorization (Zhang et al. 2016)": (12.5, 24.5, 30.4, 31.5, 30.3),
    "split-brain (cl,cl)": (17.7, 29.3, 35.4, 35.2, 32.8),
}
REPORTED: list[Reported] = [
    # Doersch et al.: R-CNN detection on PASCAL VOC 2007 test, mean AP (%), from the lecture's Ex I
    Reported("doersch2015", "ImageNet labels", 56.8, "% mAP", _SLIDE),
    Reported("doersch2015", "relative position (self-supervised)", 51.1, "% mAP", _SLIDE),
    Reported("doersch2015", "relative position, no weight rescaling", 46.6, "% mAP", _SLIDE),
    Reported("doersch2015", "no pretraining (k-means initialisation)", 45.6, "% mAP", _SLIDE),
    Reported("doersch2015", "no pretraining (Gaussian initialisation)", 43.4, "% mAP", _SLIDE),
    # Misra et al.: action recognition accuracy (%), from the lecture's Ex II
    Reported("misra2016", "UCF101, random initialisation", 38.6, "% accuracy", _SLIDE),
    Reported("misra2016", "UCF101, tuple verification", 50.2, "% accuracy", _SLIDE),
    Reported("misra2016", "UCF101, ImageNet-pretrained", 67.1, "% accuracy", _SLIDE),
    Reported("misra2016", "HMDB51, random initialisation", 13.3, "% accuracy", _SLIDE),
    Reported("misra2016", "HMDB51, UCF101-supervised", 15.2, "% accuracy", _SLIDE),
    Reported("misra2016", "HMDB51, tuple verification", 18.1, "% accuracy", _SLIDE),
    Reported("misra2016", "HMDB51, ImageNet-pretrained", 28.5, "% accuracy", _SLIDE),
    # Arandjelović & Zisserman 2017 (L3-Net): AVC test accuracy (%) and the audio features' transfer to ESC-50;
    # as on the lecture slide (a third-party summary of the paper gives the same two AVC figures, not checked here)
    Reported("arandjelovic2017", "AVC accuracy, Kinetics-Sounds", 74.0, "% accuracy", _SLIDE),
    Reported("arandjelovic2017", "AVC accuracy, Flickr-SoundNet", 78.0, "% accuracy", _SLIDE),
    Reported("arandjelovic2017", "ESC-50 accuracy, L3-Net audio features", 79.3, "% accuracy", _SLIDE),
    # Arandjelović & Zisserman 2018: localisation, pointing accuracy (%)
    Reported("arandjelovic2018", "pointing accuracy, AVOL-Net", 81.7, "%", _SLIDE),
    Reported("arandjelovic2018", "pointing accuracy, centre prior", 57.2, "%", _SLIDE),
    # the lecture's "simulate training data by transforming images": MNIST error with 100 labels
    Reported("agrawal2015", "MNIST error with 100 labels", 8.7, "% error", _SLIDE),
    # Zhang, Isola & Efros 2017: ImageNet linear probes, layer by layer
    *[Reported("zhang2017", f"{row}, conv{i + 1}", value, "% top-1", _ZHANG2017_T2)
      for row, values in _SPLIT_BRAIN_ROWS.items() for i, value in enumerate(values)],
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
