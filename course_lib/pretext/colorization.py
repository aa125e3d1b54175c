"""Colorization as classification (Zhang, Isola & Efros, "Colorful Image Colorization", ECCV 2016).

The withheld part of the data is the colour. In the CIE Lab colour space an image X splits into its lightness
X_L (H x W x 1) and its two colour channels X_ab (H x W x 2); the network F sees X_L and predicts the colour.

* Regression, L_2(Y^, Y) = 1/2 sum_{h,w} ||Y_{h,w} - Y^_{h,w}||^2 on the ab values, is the obvious loss, but the
  colour of an object is multimodal (a shirt can be red or blue), and the l2-optimal answer is the mean of the modes:
  greyish, desaturated brown.
* Classification instead: the ab plane is quantised into bins of side ``GRID`` = 10, keeping the Q bins that are
  in the sRGB gamut (Q = 313 in the paper; ``ab_gamut`` recomputes the set with kornia's Lab conversion). The network
  predicts a distribution Z^ over the Q bins at every output pixel; the target Z is the *soft encoding* of the true
  colour over its 5 nearest bins, weighted by a Gaussian with sigma = 5. The loss is the multinomial cross-entropy
  L_cl(Z^, Z) = - sum_{h,w} v(Z_{h,w}) sum_q Z_{h,w,q} log Z^_{h,w,q}.
* Class rebalancing v(.): common colours (grey, brown, sky blue) would dominate the loss, so every pixel is weighted
  by w_q* of its nearest bin q*, with w ∝ ((1 - lambda) p~ + lambda / Q)^-1, normalised so that E_p~[w] = 1, where
  p~ is the empirical colour distribution smoothed with a Gaussian (sigma = 5) and lambda = 1/2.
* Decoding, H(Z) = E[f_T(Z)] with f_T(z) = exp(log z / T) / sum_q exp(log z_q / T): the *annealed mean*.
  T = 1 is the mean (desaturated), T -> 0 the mode (vivid but patchy); the paper picks T = 0.38.

Our images are 32 x 32 CIFAR-10 photographs instead of 224 x 224 ImageNet ones, so the output (and the target) is
8 x 8, a quarter of the input side as in the paper (56 x 56), and the ab distribution p~ is CIFAR's.
"""

from __future__ import annotations

import kornia
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.nets import Backbone

GRID = 10  # side of an ab bin (paper: 10)
AB_LIMIT = 110  # the ab plane searched for in-gamut bins: [-110, 110]^2
SIGMA = 5.0  # sigma of the soft encoding and of the smoothing of p~ (paper: 5)
NEIGHBOURS = 5  # bins a true colour is soft-encoded over (paper: 5)
LAMBDA = 0.5  # mix of the smoothed empirical distribution with the uniform one (paper: 1/2)
T_PAPER = 0.38  # the annealed-mean temperature (paper: 0.38)
L_SCALE, AB_SCALE = 50.0, 110.0  # network inputs: L / 50 - 1 in [-1, 1]; ab / 110 in about [-1, 1]


# ---------------------------------------------------------------- Lab: a library conversion, batched on tensors

def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """N x 3 x H x W sRGB in [0, 1] -> Lab (L in [0, 100], a and b in about [-110, 110]), D65 (kornia)."""
    if rgb.ndim != 4 or rgb.shape[1] != 3:
        raise ValueError(f"expected RGB images N x 3 x H x W, got shape {tuple(rgb.shape)}")
    return kornia.color.rgb_to_lab(rgb.clamp(0.0, 1.0))


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """Lab -> sRGB in [0, 1]; colours outside the sRGB gamut are clipped (kornia)."""
    return kornia.color.lab_to_rgb(lab, clip=True)


def split_lab(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(X_L, X_ab) of RGB images: N x 1 x H x W lightness in [0, 100] and N x 2 x H x W colour."""
    lab = rgb_to_lab(rgb)
    return lab[:, :1], lab[:, 1:]


def network_input(lightness: torch.Tensor) -> torch.Tensor:
    """X_L as the network sees it: scaled to [-1, 1]."""
    return lightness / L_SCALE - 1.0


def to_rgb(lightness: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """Put a colour back on a lightness: ab is resized (bilinearly) to the lightness's size, as colour is smooth."""
    if ab.shape[-2:] != lightness.shape[-2:]:
        ab = F.interpolate(ab, size=lightness.shape[-2:], mode="bilinear", align_corners=False)
    return lab_to_rgb(torch.cat([lightness, ab], dim=1))


def grey(rgb: torch.Tensor) -> torch.Tensor:
    """The network's view of an image as a picture: its lightness with no colour (a = b = 0)."""
    lightness, ab = split_lab(rgb)
    return to_rgb(lightness, torch.zeros_like(ab))


# ---------------------------------------------------------------- the quantised ab space

@torch.no_grad()
def ab_gamut(grid: int = GRID, limit: int = AB_LIMIT, lightness_steps: int = 101) -> torch.Tensor:
    """The centres (Q x 2) of the ab bins of side ``grid`` that hold a displayable colour at some lightness.

    A bin counts as in gamut when its centre, at one of ``lightness_steps`` lightness levels, converts to an sRGB
    colour inside [0, 1]^3 without clipping (the paper keeps Q = 313 such bins at grid 10; this test, on centres,
    finds a similar number).
    """
    axis = torch.arange(-limit, limit + 1, grid, dtype=torch.float32)
    a, b = torch.meshgrid(axis, axis, indexing="ij")
    centres = torch.stack([a.flatten(), b.flatten()], dim=1)  # K x 2
    levels = torch.linspace(0.0, 100.0, lightness_steps)
    lab = torch.cat([levels.view(-1, 1, 1).expand(-1, len(centres), 1),
                     centres.expand(lightness_steps, -1, -1)], dim=2)  # levels x K x 3
    rgb = kornia.color.lab_to_rgb(lab.permute(2, 0, 1).unsqueeze(0), clip=False)[0]  # 3 x levels x K
    displayable = ((rgb >= 0.0) & (rgb <= 1.0)).all(dim=0).any(dim=0)
    return centres[displayable]


def _pixels(ab: torch.Tensor) -> torch.Tensor:
    """N x 2 x H x W -> (N H W) x 2."""
    return ab.permute(0, 2, 3, 1).reshape(-1, 2)


def _grid_index(centres: torch.Tensor) -> torch.Tensor:
    """A (2 L + 1) x (2 L + 1) table, L = AB_LIMIT / GRID: the bin index of each grid point, -1 where none."""
    side = 2 * AB_LIMIT // GRID + 1
    cells = (centres / GRID).round().long() + AB_LIMIT // GRID
    table = torch.full((side, side), -1, dtype=torch.long, device=centres.device)
    table[cells[:, 0], cells[:, 1]] = torch.arange(len(centres), device=centres.device)
    return table


def _candidates(ab: torch.Tensor, centres: torch.Tensor, reach: int = 3):
    """The bins within ``reach`` grid steps of each pixel's colour, and their squared distances (inf where the grid
    point holds no bin): a (2 reach + 1)^2 window instead of all Q bins, so that soft encoding stays cheap."""
    pixels = _pixels(ab)
    table = _grid_index(centres.to(ab.device))
    offsets = torch.arange(-reach, reach + 1, device=ab.device)
    cell = (pixels / GRID).round().long() + AB_LIMIT // GRID  # the nearest grid point
    rows = (cell[:, :1, None] + offsets.view(1, -1, 1)).clamp(0, len(table) - 1)
    cols = (cell[:, 1:, None] + offsets.view(1, 1, -1)).clamp(0, len(table) - 1)
    index = table[rows, cols].flatten(1)  # P x (2 reach + 1)^2
    where = centres.to(ab)[index.clamp_min(0)]  # P x W x 2
    squared = (where - pixels[:, None]).pow(2).sum(-1).masked_fill(index < 0, float("inf"))
    return index, squared


def soft_encode(ab: torch.Tensor, centres: torch.Tensor, neighbours: int = NEIGHBOURS, sigma: float = SIGMA):
    """Z = H_gt^-1(Y): each pixel's colour over its ``neighbours`` nearest bins, Gaussian-weighted (sigma).

    Returns (indices, weights), both N x neighbours x H x W: a sparse Z (the other Q - 5 entries are 0). The weights
    of a pixel sum to 1. The nearest bins are searched within 3 grid steps (30 ab units) of the colour.
    """
    n, _, h, w = ab.shape
    index, squared = _candidates(ab, centres)
    nearest, pick = squared.topk(neighbours, dim=1, largest=False)
    weights = torch.softmax(-nearest / (2 * sigma ** 2), dim=1)  # exp(-d^2 / 2 sigma^2), normalised
    as_maps = lambda t: t.view(n, h, w, neighbours).permute(0, 3, 1, 2)  # noqa: E731
    return as_maps(index.gather(1, pick)), as_maps(weights)


def nearest_bin(ab: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """q* of every pixel: the index of the bin closest to its colour (N x H x W)."""
    n, _, h, w = ab.shape
    return torch.cdist(_pixels(ab), centres.to(ab)).argmin(dim=1).view(n, h, w)


# ---------------------------------------------------------------- class rebalancing

def empirical_distribution(ab: torch.Tensor, centres: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """p, the fraction of pixels whose nearest bin is q, over a set of ab maps (Q numbers that sum to 1)."""
    counts = torch.zeros(len(centres), device=ab.device)
    for start in range(0, len(ab), batch_size):
        counts += torch.bincount(nearest_bin(ab[start:start + batch_size], centres).flatten(),
                                 minlength=len(centres)).to(counts)
    return counts / counts.sum()


def smooth(p: torch.Tensor, centres: torch.Tensor, sigma: float = SIGMA) -> torch.Tensor:
    """p~ = G_sigma * p: each bin's mass spread over the bins near it in the ab plane (total mass kept)."""
    kernel = torch.exp(-torch.cdist(centres, centres).pow(2) / (2 * sigma ** 2)).to(p)  # K[q, q']
    kernel = kernel / kernel.sum(dim=0, keepdim=True)  # each column spreads one bin's mass, summing to 1
    return kernel @ p


def rebalancing_weights(p_smooth: torch.Tensor, lam: float = LAMBDA) -> torch.Tensor:
    """w ∝ ((1 - lambda) p~ + lambda / Q)^-1, scaled so that E_p~[w] = sum_q p~_q w_q = 1."""
    if not 0.0 < lam <= 1.0:
        raise ValueError(f"lambda must be in (0, 1], got {lam}")
    w = 1.0 / ((1.0 - lam) * p_smooth + lam / len(p_smooth))
    return w / (p_smooth * w).sum()


# ---------------------------------------------------------------- the network, the losses, decoding

OUTPUT_STRIDE = 4  # the output (and the target) has a quarter of the input's side, as in the paper (56 of 224)


class Colorizer(nn.Module):
    """F: X_L -> ``out_channels`` maps at a quarter of the input side: Q logits (classification) or ab (regression).

    The backbone encodes X_L (conv1 ... conv5); the conv5 map is enlarged to the output side, one 3 x 3 convolution
    mixes it, and a 1 x 1 convolution makes the Q class scores, as the paper's last layer does.
    """

    def __init__(self, backbone: Backbone, out_channels: int, image_size: int = 32, hidden: int = 64):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Sequential(
            nn.Upsample(size=image_size // OUTPUT_STRIDE, mode="bilinear", align_corners=False),
            nn.Conv2d(backbone.out_dim, hidden, 3, padding=1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(),
            nn.Conv2d(hidden, out_channels, 1))

    def forward(self, lightness_input: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(lightness_input))


def _targets(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(network input X_L at full size, the true ab averaged down to the output side)."""
    lightness, ab = split_lab(rgb)
    return network_input(lightness), F.avg_pool2d(ab, OUTPUT_STRIDE)


def soft_cross_entropy(logits: torch.Tensor, ab: torch.Tensor, centres: torch.Tensor,
                       weights: torch.Tensor | None = None):
    """L_cl of predicted class scores (N x Q x h x w) against the true colour ab (N x 2 x h x w): the cross-entropy
    with the soft-encoded Z, each pixel weighted by v(Z) = w of its nearest bin if ``weights`` are given.

    Returns (loss, plain cross-entropy without the weights)."""
    index, soft = soft_encode(ab, centres)
    log_z = F.log_softmax(logits, dim=1).gather(1, index)  # log Z^ at the 5 bins where Z is non-zero
    per_pixel = -(soft * log_z).sum(dim=1)  # - sum_q Z_q log Z^_q
    plain = per_pixel.mean()
    if weights is not None:
        per_pixel = per_pixel * weights.to(per_pixel)[index[:, 0]]  # v(Z) = w of the nearest bin (top-1 of Z)
    return per_pixel.mean(), plain


def classification_loss(model: Colorizer, batch, centres: torch.Tensor, weights: torch.Tensor | None = None):
    """L_cl for ``train.fit`` (batch = (RGB images, ...)), rebalanced if ``weights`` (w over the Q bins) are given.
    Use with ``functools.partial(classification_loss, centres=..., weights=...)``."""
    x, ab = _targets(batch[0])
    loss, plain = soft_cross_entropy(model(x), ab, centres, weights)
    return loss, {"ce": plain}


def regression_loss(model: Colorizer, batch):
    """L_2 for ``train.fit``: half the squared error of the predicted ab (scaled by 1 / 110), averaged over pixels."""
    x, ab = _targets(batch[0])
    return 0.5 * (model(x) - ab / AB_SCALE).pow(2).sum(dim=1).mean()


def annealed_mean(logits: torch.Tensor, centres: torch.Tensor, temperature: float = T_PAPER) -> torch.Tensor:
    """H(Z^) = E[f_T(Z^)]: ab (N x 2 x h x w) from class scores (N x Q x h x w).

    f_T(z) = exp(log z / T) / sum exp(log z / T) with z = softmax(logits) is softmax(logits / T).
    """
    if temperature <= 0:
        raise ValueError(f"the temperature T must be > 0, got {temperature}")
    f_t = torch.softmax(logits / temperature, dim=1)
    return torch.einsum("nqhw,qc->nchw", f_t, centres.to(f_t))


@torch.no_grad()
def colorize(model: Colorizer, rgb: torch.Tensor, centres: torch.Tensor | None = None,
             temperature: float = T_PAPER, batch_size: int = 500) -> torch.Tensor:
    """The colorized images (RGB in [0, 1]): the true lightness with the predicted colour.

    A classification model (``centres`` given) is decoded with the annealed mean at ``temperature``; a regression
    model (no ``centres``) predicts ab directly.
    """
    model.eval()
    out = []
    for start in range(0, len(rgb), batch_size):
        lightness, _ = split_lab(rgb[start:start + batch_size])
        prediction = model(network_input(lightness))
        ab = annealed_mean(prediction, centres, temperature) if centres is not None else prediction * AB_SCALE
        out.append(to_rgb(lightness, ab))
    return torch.cat(out)


# ---------------------------------------------------------------- how right: the ab error, swept over thresholds

AUC_MAX_DISTANCE = 150.0  # the ab-error thresholds swept, 0 ... 150 (Zhang et al. 2016, "raw accuracy (AuC)")


def ab_auc(predicted_ab: torch.Tensor, true_ab: torch.Tensor, weights: torch.Tensor | None = None,
           max_distance: float = AUC_MAX_DISTANCE) -> float:
    """The paper's raw accuracy, in %: the fraction of pixels whose predicted colour lies within a distance t of the
    true colour in the ab plane, as t sweeps from 0 to ``max_distance``; the area under that curve, normalised so
    that a perfect colorization scores 100 (and one that is at least ``max_distance`` off everywhere, 0).

    Integrated exactly: a pixel with ab error d is within t for a fraction 1 - min(d, D) / D of the thresholds
    t in [0, D], so the AuC is the mean of that over the pixels (weighted by ``weights``, N x H x W, if given).
    Unlike colourfulness, it rewards the *right* colour, and it favours a cautious greyish guess over a bold
    wrong one.
    """
    error = (predicted_ab - true_ab).norm(dim=1)  # N x H x W: Euclidean distance in the ab plane
    within = 1.0 - error.clamp(max=max_distance) / max_distance
    if weights is None:
        return 100.0 * within.mean().item()
    weights = weights.to(within)
    return 100.0 * ((within * weights).sum() / weights.sum()).item()


def per_colour_weights(true_ab: torch.Tensor, centres: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Pixel weights (N x H x W) that make every ab bin of the true colours count the same: 1 / (the number of
    pixels whose true colour falls in that bin). With them ``ab_auc`` is the mean over colours of each colour's AuC,
    so that rare saturated colours weigh as much as the common greys (in the spirit of the paper's class-rebalanced
    AuC)."""
    bins = torch.cat([nearest_bin(true_ab[i:i + batch_size], centres) for i in range(0, len(true_ab), batch_size)])
    counts = torch.bincount(bins.flatten(), minlength=len(centres))
    return 1.0 / counts[bins].float()


# ---------------------------------------------------------------- how colourful

def colourfulness(rgb: torch.Tensor) -> torch.Tensor:
    """The colourfulness M of each image (Hasler & Suesstrunk 2003), from RGB in [0, 1] scaled to 0 ... 255.

    rg = R - G, yb = (R + G) / 2 - B; M = sqrt(sd(rg)^2 + sd(yb)^2) + 0.3 sqrt(mean(rg)^2 + mean(yb)^2).
    A grey image has M = 0; the authors call M of about 33 "moderately", 59 "quite" and 82 "highly colourful".
    """
    r, g, b = (255.0 * rgb).unbind(dim=1)
    rg, yb = (r - g).flatten(1), (0.5 * (r + g) - b).flatten(1)
    spread = (rg.var(dim=1, unbiased=False) + yb.var(dim=1, unbiased=False)).sqrt()
    offset = (rg.mean(dim=1).pow(2) + yb.mean(dim=1).pow(2)).sqrt()
    return spread + 0.3 * offset
