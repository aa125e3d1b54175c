"""The reference that *is* told the digits (notebook 08): each tower trained as a digit classifier."""

from __future__ import annotations

import torch
from torch import nn

from course_lib import config, nets, pretrained, train
from course_lib.lessons.sound_supervision.evaluation import audio_probe_sets, image_probe_sets
from course_lib.lessons.sound_supervision.videos import NOTEBOOK, Sizes, SoundsAndImages, towers


class SupervisedPair(nn.Module):
    """The supervised reference as a two-tower model: each tower a digit classifier trained on digit labels. Its
    "embeddings" are the class probabilities, and two of them go together as much as they name the same digit
    (the product of the probabilities): a retrieval that is told what the digits are."""

    def __init__(self, image_classifier: nets.Classifier, audio_classifier: nets.Classifier):
        super().__init__()
        self.image_classifier, self.audio_classifier = image_classifier, audio_classifier
        self.image_tower, self.audio_tower = image_classifier.backbone, audio_classifier.backbone

    def embed_image(self, images: torch.Tensor) -> torch.Tensor:
        return self.image_classifier(images).softmax(1)

    def embed_audio(self, specs: torch.Tensor) -> torch.Tensor:
        return self.audio_classifier(specs).softmax(1)

    def fuse(self, v: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return (v * a).sum(1)


def train_supervised(d: SoundsAndImages, sizes: Sizes, seed: int = 0, progress: bool = True):
    """The supervised reference: the image tower trained to classify the digit of every training image outside the
    validation split, the audio tower the digit of every training recording outside the validation voice (the data
    the probes are trained on, with every label). Same initial weights as every other model.
    Returns (SupervisedPair, {"supervised image tower": history, "supervised audio tower": history})."""
    (images, image_digits), _, _ = image_probe_sets(d, sizes, seed)
    (sounds, sound_digits), _, _ = audio_probe_sets(d)
    image_tower, audio_tower = towers(sizes, seed, d.images.device)
    with config.isolated_rng(seed):
        classifiers = {"image": nets.Classifier(image_tower, 10).to(d.images.device),
                       "audio": nets.Classifier(audio_tower, 10).to(d.images.device)}
    histories = {}
    for name, (x, y) in {"image": (images, image_digits), "audio": (sounds, sound_digits)}.items():
        desc = f"supervised {name} tower"
        histories[desc] = pretrained.load_or_train(
            classifiers[name], f"{NOTEBOOK}/{desc}",
            lambda: train.train_classifier(classifiers[name], x, y, steps=sizes.supervised_steps,  # noqa: B023
                                           batch_size=sizes.pairs_per_step, seed=seed, max_seconds=sizes.seconds,
                                           progress=progress, desc=desc),  # noqa: B023 (called at once)
            sizes=sizes, seed=seed, loss="cross-entropy")
    return SupervisedPair(classifiers["image"], classifiers["audio"]).eval(), histories
