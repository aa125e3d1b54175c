"""Strong supervision transfers (notebook 01): features learned with labels on one task help another.

The source task is MNIST digits 0-4 with every label; the target task is digits 5-9, with only a few
labels per class. Same images, different classes: what carries over is the features, not the answers.
The comparison is the course's protocol in miniature: the same network and training recipe for every
initialisation, few-label subsets drawn per seed, accuracy on the full test set of the target task.
"""

from __future__ import annotations

import copy

import torch

from course_lib import augment, evaluate, nets, train
from course_lib.config import Profile

ANIMALS = (2, 3, 4, 5, 6, 7)  # CIFAR-10: bird, cat, deer, dog, frog, horse
VEHICLES = (0, 1, 8, 9)  # CIFAR-10: airplane, automobile, ship, truck


def select_classes(x: torch.Tensor, y: torch.Tensor, classes) -> tuple[torch.Tensor, torch.Tensor]:
    """The examples of ``classes``, relabelled 0 .. len(classes)-1."""
    classes = torch.as_tensor(classes, device=y.device)
    keep = torch.isin(y, classes)
    relabel = torch.full((int(y.max()) + 1,), -1, dtype=torch.long, device=y.device)
    relabel[classes] = torch.arange(len(classes), device=y.device)
    return x[keep], relabel[y[keep]]


def pretrain_with_labels(x: torch.Tensor, y: torch.Tensor, profile: Profile, seed: int = 0):
    """Supervised pretraining on the source task; returns (backbone, history)."""
    torch.manual_seed(seed)
    model = nets.Classifier(nets.Backbone(x.shape[1], profile.width), int(y.max()) + 1).to(x.device)
    history = train.train_classifier(model, x, y, steps=profile.pretrain_steps, batch_size=profile.batch_size,
                                     augment=augment.random_crop_flip, seed=seed, max_seconds=profile.max_seconds,
                                     desc="pretraining on source labels")
    return model.backbone, history


def transfer_curves(pretrained: nets.Backbone, train_xy, test_xy, profile: Profile, seed: int = 0):
    """Accuracy (%) against labels per class on the target task, for four ways to start.

    Fine-tuned and scratch use the same recipe (steps, augmentation, optimiser); only the initial weights
    differ. The frozen rows train only a linear probe on top of fixed features.
    """
    (x, y), (x_test, y_test) = train_xy, test_xy
    n_classes = int(y.max()) + 1
    torch.manual_seed(seed)
    random_backbone = nets.Backbone(x.shape[1], profile.width).to(x.device)

    def from_weights(backbone):
        return lambda: nets.Classifier(copy.deepcopy(backbone), n_classes)

    finetune = dict(steps=profile.finetune_steps, augment=augment.random_crop_flip, seed=seed,
                    batch_size=profile.batch_size)
    points = profile.labels_per_class
    return {
        "pretrained, fine-tuned": evaluate.finetune_curve(from_weights(pretrained), x, y, x_test, y_test,
                                                          points, **finetune),
        "scratch (same recipe)": evaluate.finetune_curve(from_weights(random_backbone), x, y, x_test, y_test,
                                                         points, **finetune),
        "pretrained, frozen + linear probe": evaluate.probe_curve(pretrained.embed, x, y, x_test, y_test,
                                                                  points, seed),
        "random, frozen + linear probe": evaluate.probe_curve(random_backbone.embed, x, y, x_test, y_test,
                                                              points, seed),
    }
