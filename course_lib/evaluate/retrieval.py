"""Features judged without a trained probe: cluster purity, recall@k, mAP, detection mAP, a kNN classifier."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics.cluster import contingency_matrix


def cluster_purity(clusters, truth) -> float:
    """The fraction of items whose cluster's most common class is their own (1 = every cluster is one class).

    The classes only grade the clusters, never make them. A random grouping of the same sizes scores about the
    share of the commonest class.
    """
    counts = contingency_matrix(np.asarray(truth), np.asarray(clusters))  # classes x clusters
    return float(counts.max(axis=0).sum() / counts.sum())


def recall_at_k(scores: torch.Tensor, query_labels: torch.Tensor, gallery_labels: torch.Tensor, k: int = 1) -> float:
    """Retrieval recall@k: the fraction of queries with an item of their own class among their ``k`` best-scored
    gallery items. ``scores`` is queries x gallery, higher = more alike (a similarity, a negative distance, or a
    model's score of every pair); e.g. audio queries against an image gallery for cross-modal retrieval.

    A random ranking gets about sum_c q_c g_c at k = 1 (q, g: the class frequencies of queries and gallery).
    """
    if scores.shape != (len(query_labels), len(gallery_labels)):
        raise ValueError(f"scores must be {len(query_labels)} queries x {len(gallery_labels)} gallery items, "
                         f"got shape {tuple(scores.shape)}")
    top = scores.topk(min(k, scores.shape[1]), dim=1).indices  # queries x k
    hits = gallery_labels.to(top.device)[top] == query_labels.to(top.device)[:, None]
    return hits.any(dim=1).float().mean().item()


def mean_average_precision(scores: torch.Tensor, query_labels: torch.Tensor, gallery_labels: torch.Tensor,
                           exclude: torch.Tensor | None = None) -> float:
    """Retrieval mean average precision: for each query, the average over its relevant gallery items (those of its
    class) of the precision of the ranking down to that item; then the mean over queries (queries with no relevant
    item are left out). Unlike recall@k it grades the whole ranking, not only its top. ``scores`` is queries x
    gallery, higher = more alike; ``exclude`` (a boolean matrix of the same shape) leaves pairs out of the ranking,
    e.g. each query itself when a modality searches its own items. Per query it is scikit-learn's
    ``average_precision_score`` (no ties); torchmetrics' ``retrieval_average_precision`` (1.9) is not used because it
    counts an item scored <= 0 as not relevant, and cosines are often negative.
    """
    if scores.shape != (len(query_labels), len(gallery_labels)):
        raise ValueError(f"scores must be {len(query_labels)} queries x {len(gallery_labels)} gallery items, "
                         f"got shape {tuple(scores.shape)}")
    scores = scores.float().cpu()
    relevant = gallery_labels.cpu()[None, :] == query_labels.cpu()[:, None]
    if exclude is not None:
        exclude = exclude.cpu()
        scores = scores.masked_fill(exclude, -math.inf)
        relevant = relevant & ~exclude
    order = scores.argsort(dim=1, descending=True, stable=True)
    hits = relevant.gather(1, order).float()  # queries x gallery, in ranked order
    precision = hits.cumsum(1) / torch.arange(1, hits.shape[1] + 1)
    n_relevant = hits.sum(1)
    present = n_relevant > 0
    ap = (precision * hits).sum(1)[present] / n_relevant[present]
    return ap.mean().item()


def detection_map(predictions: list[dict[str, torch.Tensor]], targets: list[dict[str, torch.Tensor]],
                  iou: float = 0.5, classes: Sequence[int] | None = None) -> float:
    """Mean average precision (%) at one IoU threshold, by torchmetrics' ``MeanAveragePrecision`` (COCO's
    101-point interpolated AP per class, averaged over the classes present, or over ``classes`` only).

    ``predictions``: per image {"boxes": (k, 4) x0 y0 x1 y1, "scores": (k,), "labels": (k,)};
    ``targets``: per image {"boxes", "labels"}. mAP@0.5, PASCAL VOC's criterion, is ``iou=0.5``.
    """
    from torchmetrics.detection import MeanAveragePrecision  # imported here: it is slow to import and only 02 needs it

    if len(predictions) != len(targets):
        raise ValueError(f"{len(predictions)} predictions for {len(targets)} images: give one of each per image")
    metric = MeanAveragePrecision(box_format="xyxy", iou_type="bbox", iou_thresholds=[iou],
                                  class_metrics=classes is not None)
    metric.update(predictions, targets)
    result = metric.compute()
    if classes is None:
        return 100.0 * float(result["map"])
    per_class = dict(zip(result["classes"].flatten().tolist(), result["map_per_class"].flatten().tolist(),
                         strict=True))  # a class with no true box scores -1 there
    missing = sorted(c for c in classes if per_class.get(c, -1) < 0)
    if missing:
        raise ValueError(f"classes {missing} have no true box in the targets: their AP is undefined")
    return 100.0 * sum(per_class[c] for c in classes) / len(classes)


def knn_scores(train_x: torch.Tensor, train_y: torch.Tensor, graded: list[tuple[torch.Tensor, torch.Tensor]],
               k: int = 20, temperature: float = 0.07, batch_size: int = 2000) -> list[float]:
    """Accuracy (%) of a weighted k-nearest-neighbour classifier on frozen features, graded on several sets.

    The protocol of instance discrimination (Wu, Xiong, Yu & Lin, CVPR 2018): features centred on the labelled set's
    mean and scaled to unit length, so that a dot product is a cosine similarity s; the ``k`` most similar labelled
    examples vote for their class with weight exp(s / ``temperature``). Nothing is trained: it asks whether images of
    a class lie near each other, where ``linear_probe`` asks whether the classes can be cut apart by planes.
    """
    return knn_scores_by_k(train_x, train_y, graded, (k,), temperature, batch_size)[k]


def knn_scores_by_k(train_x: torch.Tensor, train_y: torch.Tensor, graded: list[tuple[torch.Tensor, torch.Tensor]],
                    ks: tuple[int, ...], temperature: float = 0.07, batch_size: int = 2000) -> dict[int, list[float]]:
    """``knn_scores`` for several k at once, {k: accuracies}: one search for the largest k serves them all (the k
    nearest are the first k of the largest k's, most similar first), so choosing k on validation costs one search.
    A k above the number of labelled examples reads them all."""
    mean = train_x.mean(0)
    bank = F.normalize(train_x - mean, dim=1)
    n_classes = int(max([train_y.max(), *[y.max() for _, y in graded]])) + 1
    widest = min(max(ks), len(bank))
    scores = {k: [] for k in ks}
    for x, y in graded:
        right = dict.fromkeys(ks, 0)
        for start in range(0, len(x), batch_size):
            query = F.normalize(x[start:start + batch_size] - mean, dim=1)
            similarity, nearest = (query @ bank.T).topk(widest, dim=1)  # sorted: most similar first
            for k in ks:
                predicted = knn_vote(similarity[:, :k], train_y[nearest[:, :k]], n_classes, temperature)
                right[k] += (predicted == y[start:start + batch_size]).sum().item()
        for k in ks:
            scores[k].append(100.0 * right[k] / len(x))
    return scores


def knn_vote(similarity: torch.Tensor, labels: torch.Tensor, n_classes: int, temperature: float = 0.07
             ) -> torch.Tensor:
    """The class each query's neighbours vote for: ``similarity`` and ``labels`` are queries x k (the cosine
    similarity and the class of each of the k nearest labelled examples); each votes with weight
    exp(similarity / ``temperature``), and the class with the largest total wins."""
    votes = torch.zeros(len(similarity), n_classes, dtype=similarity.dtype, device=similarity.device)
    votes.scatter_add_(1, labels, (similarity / temperature).exp())
    return votes.argmax(1)
