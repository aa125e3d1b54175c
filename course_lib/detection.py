"""Object detection at laptop scale: scenes of real images with known boxes, and a one-stage detector.

* ``make_scenes``  paste 1-3 real images (CIFAR-10 photos, say) at random sizes and places on a canvas, one per
                   quadrant so they never overlap; the boxes and classes are known because we put them there.
                   The background is a real photo blurred to a colour wash, so that "not an object" is not
                   simply "grey".
* ``Detector``     a CenterNet-style head ("Objects as Points", Zhou, Wang & Kraehenbuehl 2019) on one stage of
                   the shared backbone: for every cell of the feature map, a score per class ("an object's
                   centre is here") and its box (sub-cell offset of the centre, log width and height).
* ``detection_loss``  focal loss on the centre scores (torchvision's RetinaNet focal loss: almost every cell is
                   background) + L1 on the box of the cells that hold a centre.
* ``detect``       scores -> peaks (a 3x3 max-pool keeps local maxima, CenterNet's replacement for NMS) ->
                   the top-k boxes per scene, as ``evaluate.detection_map`` takes them.

A frozen backbone's features are computed once (``frozen_features``) and only the head trains on them; fine-tuning
trains ``Detector`` (backbone and head) end to end. Boxes are (x0, y0, x1, y1) in pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import sigmoid_focal_loss

from course_lib.augment import affine_warp
from course_lib.nets import Backbone

MAX_OBJECTS = 3  # one per quadrant at most; a scene keeps MAX_OBJECTS slots, empty ones labelled -1


@dataclass
class Scenes:
    """Canvases ``x`` (n, 3, side, side), boxes (n, MAX_OBJECTS, 4) in pixels, labels (n, MAX_OBJECTS), -1 = none."""

    x: torch.Tensor
    boxes: torch.Tensor
    labels: torch.Tensor
    classes: list[str]

    def __len__(self) -> int:
        return len(self.x)

    @property
    def side(self) -> int:
        return self.x.shape[-1]

    def targets(self) -> list[dict[str, torch.Tensor]]:
        """Ground truth per scene, as ``torchmetrics``' MeanAveragePrecision takes it."""
        return [{"boxes": b[keep].cpu(), "labels": lab[keep].cpu()}
                for b, lab, keep in zip(self.boxes, self.labels, self.labels >= 0, strict=True)]

    def __repr__(self) -> str:
        return (f"Scenes({len(self)} canvases of {self.side} x {self.side}, "
                f"{int((self.labels >= 0).sum())} objects of {len(self.classes)} classes, device={self.x.device})")


def _paste(canvas: torch.Tensor, images: torch.Tensor, corner: torch.Tensor, size: torch.Tensor) -> torch.Tensor:
    """Each image resized to ``size[i]`` pixels and pasted with its top-left at ``corner[i]`` = (x, y): batched."""
    side = canvas.shape[-1]
    scale = side / size.float()  # the warp asks, for each canvas pixel, where in the image to read
    zero = torch.zeros_like(scale)
    theta = torch.stack([torch.stack([scale, zero, (side - 2 * corner[:, 0]) / size - 1], 1),
                         torch.stack([zero, scale, (side - 2 * corner[:, 1]) / size - 1], 1)], 1)
    pasted = affine_warp(images, theta, size=(side, side), padding_mode="border")
    pixel = torch.arange(side, device=canvas.device)
    inside_x = (pixel >= corner[:, :1]) & (pixel < (corner[:, 0] + size)[:, None])
    inside_y = (pixel >= corner[:, 1:]) & (pixel < (corner[:, 1] + size)[:, None])
    inside = (inside_y[:, :, None] & inside_x[:, None, :])[:, None]
    return torch.where(inside, pasted, canvas)


def _wash(photos: torch.Tensor, side: int) -> torch.Tensor:
    """Real photos blurred to a smooth colour wash (4 x 4 averages, upsampled): a background with no object."""
    return F.interpolate(F.adaptive_avg_pool2d(photos, 4), size=(side, side), mode="bilinear", align_corners=False)


def make_scenes(images: torch.Tensor, labels: torch.Tensor, n: int, classes: list[str], side: int = 64,
                sizes: tuple[int, int] = (16, 32), seed: int = 0) -> Scenes:
    """``n`` canvases of ``side`` pixels with 1 to 3 of ``images`` pasted at random sizes in ``sizes`` (inclusive),
    at most one per quadrant, on a blurred photo. The same ``seed`` gives the same scenes."""
    if images.ndim != 4 or len(images) != len(labels):
        raise ValueError(f"images must be (N, C, H, W) with one label each, got {tuple(images.shape)} and "
                         f"{tuple(labels.shape)} labels")
    if not 1 <= sizes[0] <= sizes[1] <= side // 2:
        raise ValueError(f"object sizes {sizes} must lie in 1 ... {side // 2} (half the canvas: one per quadrant)")
    device = images.device
    g = torch.Generator().manual_seed(seed)
    pick = lambda k: torch.randint(0, len(images), (k,), generator=g).to(device)  # noqa: E731
    canvas = _wash(images[pick(n)], side)
    count = torch.randint(1, MAX_OBJECTS + 1, (n,), generator=g)
    quadrants = torch.rand(n, 4, generator=g).argsort(dim=1)[:, :MAX_OBJECTS]  # distinct quadrants per scene
    boxes = torch.zeros(n, MAX_OBJECTS, 4)
    scene_labels = torch.full((n, MAX_OBJECTS), -1, dtype=torch.long)
    half = side // 2
    for slot in range(MAX_OBJECTS):  # a loop over the 3 slots; every scene is pasted at once
        present = count > slot
        which = pick(n)
        size = torch.randint(sizes[0], sizes[1] + 1, (n,), generator=g)
        room = half - size + 1
        offset = (torch.rand(n, 2, generator=g) * room[:, None]).long()
        corner = torch.stack([quadrants[:, slot] % 2, quadrants[:, slot] // 2], 1) * half + offset  # (x, y)
        pasted = _paste(canvas, images[which], corner.to(device), size.to(device))
        canvas = torch.where(present.to(device)[:, None, None, None], pasted, canvas)
        boxes[present, slot] = torch.cat([corner, corner + size[:, None]], 1).float()[present]
        scene_labels[present, slot] = labels[which].cpu()[present]
    return Scenes(canvas, boxes.to(device), scene_labels.to(device), list(classes))


# ---------------------------------------------------------------- the detector


class DetectionHead(nn.Module):
    """Feature map (n, c, h, w) -> (n, n_classes + 4, h, w): centre scores (logits) per class, then the box."""

    def __init__(self, in_channels: int, n_classes: int, hidden: int = 32, prior: float = 0.01):
        super().__init__()
        self.n_classes = n_classes
        self.layers = nn.Sequential(nn.Conv2d(in_channels, hidden, 3, padding=1), nn.BatchNorm2d(hidden),
                                    nn.ReLU(inplace=True), nn.Conv2d(hidden, hidden, 3, padding=1),
                                    nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
                                    nn.Conv2d(hidden, n_classes + 4, 1))
        # start by predicting "background" everywhere with probability 1 - prior (RetinaNet's initialisation),
        # so that the first steps of the focal loss are not swamped by thousands of easy background cells
        with torch.no_grad():
            self.layers[-1].bias[:n_classes] = -torch.log(torch.tensor((1 - prior) / prior))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features)


class Detector(nn.Module):
    """Backbone (up to ``stage``) + ``DetectionHead``: images -> the head's map.

    With ``frozen_batchnorm`` the backbone's BatchNorm layers keep their statistics in training too (detectors are
    usually fine-tuned this way: small batches estimate statistics badly, and the head was fitted to the old ones).
    """

    def __init__(self, backbone: Backbone, n_classes: int, stage: str = "conv5", hidden: int = 32,
                 frozen_batchnorm: bool = False):
        super().__init__()
        self.backbone, self.stage, self.frozen_batchnorm = backbone, stage, frozen_batchnorm
        self.head = DetectionHead(backbone.channels[stage], n_classes, hidden)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen_batchnorm:
            for m in self.backbone.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x, self.stage))


def encode(boxes: torch.Tensor, labels: torch.Tensor, n_classes: int, map_side: int, image_side: int):
    """Targets on the map: centre heatmap (n, C, h, w) with a 1 in the cell holding each object's centre, and the
    box of that cell: (offset of the centre in the cell, in [0, 1); log of width and height in cells)."""
    n, stride = len(boxes), image_side / map_side
    present = labels >= 0
    centre = (boxes[..., :2] + boxes[..., 2:]) / 2 / stride  # (n, K, 2) in cells, (x, y)
    cell = centre.floor().long().clamp(0, map_side - 1)
    size = ((boxes[..., 2:] - boxes[..., :2]) / stride).clamp(min=1e-3).log()
    scene = torch.arange(n, device=boxes.device)[:, None].expand_as(labels)
    s, k = scene[present], labels[present]
    row, col = cell[..., 1][present], cell[..., 0][present]
    heat = torch.zeros(n, n_classes, map_side, map_side, device=boxes.device)
    heat[s, k, row, col] = 1.0
    box = torch.zeros(n, 4, map_side, map_side, device=boxes.device)
    box[s, :, row, col] = torch.cat([centre[present] - cell[present], size[present]], dim=1)
    holds_centre = torch.zeros(n, map_side, map_side, dtype=torch.bool, device=boxes.device)
    holds_centre[s, row, col] = True
    return heat, box, holds_centre


def _box_outputs(raw_box: torch.Tensor) -> torch.Tensor:
    """The head's 4 box channels as (offset x, offset y) in [0, 1] and (log w, log h)."""
    return torch.cat([raw_box[:, :2].sigmoid(), raw_box[:, 2:]], dim=1)


def detection_loss(model: nn.Module, batch: tuple[torch.Tensor, ...], image_side: int = 64, box_weight: float = 1.0):
    """For ``train.fit``: batch = (images or frozen feature maps, boxes, labels). Focal loss on the centre scores
    (normalised by the number of objects, as in RetinaNet) + ``box_weight`` x L1 on the boxes at the centres."""
    inputs, boxes, labels = batch
    out = model(inputs)
    n_classes = out.shape[1] - 4
    heat, box, holds_centre = encode(boxes, labels, n_classes, out.shape[-1], image_side)
    n_objects = max(int(holds_centre.sum()), 1)
    score_loss = sigmoid_focal_loss(out[:, :n_classes], heat, reduction="sum") / n_objects
    predicted = _box_outputs(out[:, n_classes:]).permute(0, 2, 3, 1)[holds_centre]
    box_loss = F.l1_loss(predicted, box.permute(0, 2, 3, 1)[holds_centre])
    return score_loss + box_weight * box_loss, {"score_loss": score_loss, "box_loss": box_loss}


@torch.no_grad()
def decode(out: torch.Tensor, image_side: int, top_k: int = 20) -> list[dict[str, torch.Tensor]]:
    """Head outputs -> per scene the ``top_k`` highest-scoring local peaks as {boxes, scores, labels} (CPU)."""
    n, channels, h, w = out.shape
    n_classes, stride = channels - 4, image_side / w
    scores = out[:, :n_classes].sigmoid()
    peaks = scores * (scores == F.max_pool2d(scores, 3, stride=1, padding=1))  # keep local maxima only
    best, index = peaks.flatten(1).topk(min(top_k, n_classes * h * w), dim=1)
    label, cell = index // (h * w), index % (h * w)
    row, col = cell // w, cell % w
    box = _box_outputs(out[:, n_classes:]).flatten(2).gather(2, cell[:, None, :].expand(n, 4, -1))  # (n, 4, k)
    centre_x, centre_y = (col + box[:, 0]) * stride, (row + box[:, 1]) * stride
    width, height = box[:, 2].exp() * stride, box[:, 3].exp() * stride
    xyxy = torch.stack([centre_x - width / 2, centre_y - height / 2, centre_x + width / 2, centre_y + height / 2], 2)
    return [{"boxes": xyxy[i].clamp(0, image_side).cpu(), "scores": best[i].cpu(), "labels": label[i].cpu()}
            for i in range(n)]


@torch.no_grad()
def detect(model: nn.Module, inputs: torch.Tensor, image_side: int, batch_size: int = 500, top_k: int = 20):
    """Run ``model`` (a ``Detector`` on images, or a ``DetectionHead`` on frozen features) and decode every scene."""
    model.eval()
    return [d for i in range(0, len(inputs), batch_size)
            for d in decode(model(inputs[i:i + batch_size]), image_side, top_k)]


@torch.no_grad()
def frozen_features(backbone: Backbone, x: torch.Tensor, stage: str = "conv5", batch_size: int = 500) -> torch.Tensor:
    """The feature maps of one stage of a frozen backbone (eval mode), computed once for a head to train on."""
    backbone.eval()
    return torch.cat([backbone(x[i:i + batch_size], stage) for i in range(0, len(x), batch_size)])
