"""A linear probe of frozen features (``linear_probe``, ``LinearProbe``, ``probe_scores``), ``embed``, ``accuracy``."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn


def _network_of(fn: Callable) -> nn.Module | None:
    """The network behind a feature extractor: the module itself, or the one a bound method belongs to."""
    owner = fn if isinstance(fn, nn.Module) else getattr(fn, "__self__", None)
    return owner if isinstance(owner, nn.Module) else None


@torch.no_grad()
def embed(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Apply a frozen feature extractor to ``x`` in chunks; flat features as a float tensor on the CPU.

    The network (``fn`` itself, or the one a bound method such as ``backbone.embed`` belongs to) is put in eval mode
    first: BatchNorm then normalises with its running statistics, so an image's features do not depend on its
    batch-mates, train and test images are normalised alike, and the statistics are left as they were. A plain
    function (a lambda around a network) must be handed a network that is already in eval mode.
    """
    network = _network_of(fn)
    if network is not None:
        network.eval()
    return torch.cat([fn(x[i:i + batch_size]).flatten(1).float().cpu() for i in range(0, len(x), batch_size)])


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 500) -> float:
    """Top-1 accuracy (%) of a classifier."""
    predictions = embed(model, x, batch_size).argmax(1)
    return 100.0 * (predictions == y.cpu()).float().mean().item()


PROBE_ITERATIONS = 300  # the L-BFGS budget of a probe (on our features it converges in 150-250 iterations)
PROBE_C = 1.0  # scikit-learn's default; the grid a probe chooses from on validation is ``config.PROBE_CS``


def linear_probe(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
                 C: float = 1.0, max_iter: int = PROBE_ITERATIONS) -> float:
    """Accuracy (%) of L2-regularised multinomial logistic regression trained on frozen features.

    Same objective as ``sklearn.linear_model.LogisticRegression(C=C)``: sum of cross-entropies + ||W||^2 / 2C,
    solved with L-BFGS, but in torch so that it runs where the features are (a GPU too).
    """
    return probe_scores(train_x, train_y, [(test_x, test_y)], C, max_iter)[0]


class LinearProbe(nn.Module):
    """``linear_probe`` as a module: standardise with the training features' statistics, then one linear layer.

    A module, so a fitted probe can be kept and loaded like any trained network (``probe_layers``' ``trained``);
    only the linear layer is kept: the statistics are those of the training features, which every probe is given
    again before it is graded (``standardise_as``)."""

    def __init__(self, dim: int, n_classes: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim), persistent=False)
        self.register_buffer("std", torch.ones(dim), persistent=False)
        self.linear = nn.Linear(dim, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear((x - self.mean) / self.std)

    def standardise_as(self, x: torch.Tensor) -> LinearProbe:
        """Standardise inputs with the statistics of the training features ``x`` (and only theirs)."""
        self.mean, self.std = x.mean(0), x.std(0, unbiased=False) + 1e-6
        return self

    def fit(self, x: torch.Tensor, y: torch.Tensor, C: float = 1.0, max_iter: int = PROBE_ITERATIONS,
            start: LinearProbe | None = None) -> LinearProbe:
        """Fit on ``x``, ``y`` from zero weights, or from ``start``'s (a probe of the same features fitted at a
        neighbouring C: the objective is convex, so the optimum is the same and the solver gets there sooner)."""
        a = (x - self.standardise_as(x).mean) / self.std
        if start is None:
            nn.init.zeros_(self.linear.weight)
            nn.init.zeros_(self.linear.bias)
        else:
            self.linear.load_state_dict(start.linear.state_dict())
        optimizer = torch.optim.LBFGS(self.linear.parameters(), max_iter=max_iter, line_search_fn="strong_wolfe",
                                      tolerance_grad=1e-6, tolerance_change=1e-9)
        # the sklearn objective divided by (n C): mean cross-entropy + ||W||^2 / (2 n C); the bias is not penalised
        penalty = 1.0 / (2 * len(a) * C)

        def objective():
            optimizer.zero_grad()
            loss = F.cross_entropy(self.linear(a), y) + penalty * self.linear.weight.pow(2).sum()
            loss.backward()
            return loss

        with torch.enable_grad():
            optimizer.step(objective)
        return self

    @torch.no_grad()
    def accuracy(self, x: torch.Tensor, y: torch.Tensor) -> float:
        return 100.0 * (self(x).argmax(1) == y).float().mean().item()


def _n_classes(*labels: torch.Tensor) -> int:
    return int(max(y.max() for y in labels)) + 1


def probe_scores(train_x: torch.Tensor, train_y: torch.Tensor, graded: list[tuple[torch.Tensor, torch.Tensor]],
                 C: float = 1.0, max_iter: int = PROBE_ITERATIONS) -> list[float]:
    """``linear_probe`` trained once and graded on several sets (e.g. validation and test): one accuracy (%) each."""
    probe = LinearProbe(train_x.shape[1], _n_classes(train_y, *[y for _, y in graded])).to(train_x.device)
    probe.fit(train_x, train_y, C, max_iter)
    return [probe.accuracy(x, y) for x, y in graded]
