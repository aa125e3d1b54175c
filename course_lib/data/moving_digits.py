"""Moving digits: short videos of real MNIST digits moving over a textured background; the motion is the action.

Real digits, synthetic motion. Each clip shows one digit; how it moves is the clip's *action* class:

    bounce      straight lines, reflected off the walls        circle      round a centre, either way
    accelerate  from rest, faster and faster (x ~ t^2)        rotate      spins in place
    zoom        pulses bigger and smaller in place             wave        drifts across on a sine wave

None of them is constant-velocity motion, on purpose (Misra et al.'s pitfall: if the middle frame is always
half-way between the others, order can be checked by interpolating positions, without looking at the digit).
``glide`` -- a straight line at constant speed, no bounce -- is kept out of the action classes for exactly that
reason: it is the shortcut notebook 03 measures.

Generation is deterministic in ``seed`` and batched: every frame of every clip is one affine warp of its digit
(``augment.affine_warp`` over all N x T frames at once), composited over a static background; then a
cheap camera's brightness flicker and sensor noise are added to every frame, as real video has them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from course_lib.augment import affine_warp

ACTIONS = ("bounce", "circle", "accelerate", "rotate", "zoom", "wave")
SHORTCUT = "glide"  # constant velocity: not an action class, the shortcut's training data
# Motions that are none of the six actions: the labels a supervised control learns from, as a network trained on
# UCF101's actions is judged on HMDB51's. Last in MOTIONS, so the indices of the others do not move.
OTHER_MOTIONS = ("spiral", "shake", "sway")
MOTIONS = (*ACTIONS, SHORTCUT, *OTHER_MOTIONS)
SIZE = 48  # canvas side in pixels; a digit (28 px, ink about 20 px) is drawn at about 0.7 of its size
FRAMES = 16
NOISE = 0.1  # standard deviation of the sensor noise added to every frame
_REACH = 0.55  # how far the digit's centre may go from the canvas centre (canvas half-width = 1)


@dataclass
class MovingDigits:
    """Clips ``videos`` (float32, N x T x 1 x H x W in [0, 1]), the action ``motion`` (index into ``ACTIONS`` or
    ``MOTIONS``), the ``digit`` shown, and per frame where it is: ``centre`` (N x T x 2, canvas units in [-1, 1]),
    ``angle`` (N x T, radians) and ``scale`` (N x T)."""

    videos: torch.Tensor
    motion: torch.Tensor
    digit: torch.Tensor
    centre: torch.Tensor
    angle: torch.Tensor
    scale: torch.Tensor
    names: tuple[str, ...] = MOTIONS

    def __len__(self) -> int:
        return len(self.videos)

    @property
    def frames(self) -> torch.Tensor:
        """All frames as one image batch, (N T) x 1 x H x W (clip by clip)."""
        return self.videos.flatten(0, 1)

    def to(self, device: torch.device | str) -> MovingDigits:
        moved = {name: getattr(self, name).to(device) for name in ("videos", "motion", "digit", "centre", "angle",
                                                                    "scale")}
        return MovingDigits(**moved, names=self.names)

    def __repr__(self) -> str:
        kinds = sorted({self.names[i] for i in self.motion.tolist()}, key=self.names.index)
        return f"MovingDigits({len(self)} clips x {self.videos.shape[1]} frames of {self.videos.shape[-1]} px, " \
               f"motions={kinds}, device={self.videos.device})"


def _uniform(generator: torch.Generator, n: int, low: float, high: float) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def _sign(generator: torch.Generator, n: int) -> torch.Tensor:
    return torch.randint(0, 2, (n,), generator=generator).float() * 2 - 1


def _reflect(x: torch.Tensor, limit: float) -> torch.Tensor:
    """Fold positions into [-limit, limit] as a ball bouncing off two walls would (a triangle wave)."""
    period = 4 * limit
    u = torch.remainder(x + limit, period)
    return -limit + torch.where(u <= 2 * limit, u, period - u)


def _trajectories(motion: torch.Tensor, t: torch.Tensor, generator: torch.Generator):
    """Centre (N, T, 2), angle (N, T) and scale (N, T) of each clip's digit at normalised times ``t`` in [0, 1].

    Every motion's parameters are drawn for every clip (so the random stream does not depend on the mix of
    motions); each clip then keeps the path of its own motion.
    """
    n, tt = len(motion), t[None, :]
    draw = lambda low, high: _uniform(generator, n, low, high)[:, None]  # noqa: E731  one draw per clip
    start = torch.stack([draw(-_REACH, _REACH), draw(-_REACH, _REACH)], -1)  # (n, 1, 2)
    heading = draw(0, 2 * math.pi)
    direction = torch.stack([torch.cos(heading), torch.sin(heading)], -1)  # (n, 1, 2)
    base_angle, base_scale = draw(-0.3, 0.3), draw(0.6, 0.8)
    still = start * 0.4  # in-place motions stay near the middle, where zooming has room
    paths = {}
    # bounce: straight lines (1-1.8 canvas widths per clip) folded back at the walls, one or two bounces
    paths["bounce"] = (_reflect(start + direction * draw(2.0, 3.5)[..., None] * tt[..., None], _REACH),
                       base_angle.expand(n, len(t)), base_scale.expand(n, len(t)))
    # circle: radius 0.25-0.45 around a centre, 0.4-0.7 turns, clockwise or not
    radius, turns, phase = draw(0.25, 0.45), draw(0.4, 0.7) * _sign(generator, n)[:, None], draw(0, 2 * math.pi)
    around = phase + 2 * math.pi * turns * tt
    centre = start.clamp(-_REACH + 0.45, _REACH - 0.45)
    paths["circle"] = (centre + radius[..., None] * torch.stack([torch.cos(around), torch.sin(around)], -1),
                       base_angle.expand(n, len(t)), base_scale.expand(n, len(t)))
    # accelerate: from rest on one side across the canvas, position ~ t^2
    distance = draw(0.8, 1.1)
    origin = -direction * distance[..., None] / 2 + start * 0.3
    paths["accelerate"] = (origin + direction * (distance * tt**2)[..., None],
                           base_angle.expand(n, len(t)), base_scale.expand(n, len(t)))
    # rotate: a spin of 0.5-0.8 turn in place, either way
    spin = draw(math.pi, 1.6 * math.pi) * _sign(generator, n)[:, None]
    paths["rotate"] = (still.expand(n, len(t), 2), base_angle + spin * tt, base_scale.expand(n, len(t)))
    # zoom: the size pulses 0.6-1 times between about 0.45 and 1.0 of the digit's size
    pulses, zoom_phase = draw(0.6, 1.0), draw(0, 2 * math.pi)
    paths["zoom"] = (still.expand(n, len(t), 2), base_angle.expand(n, len(t)),
                     0.72 + 0.27 * torch.sin(zoom_phase + 2 * math.pi * pulses * tt))
    # wave: across the canvas while swinging sideways on a sine, 1-1.5 periods
    across = direction * (draw(0.9, 1.1)[..., None] * (tt - 0.5)[..., None])
    side = torch.stack([-direction[..., 1], direction[..., 0]], -1)
    amplitude, wave_phase, periods = draw(0.2, 0.3), draw(0, 2 * math.pi), draw(1.0, 1.5)
    swing = amplitude * torch.sin(wave_phase + 2 * math.pi * periods * tt)
    paths["wave"] = (start * 0.3 + across + side * swing[..., None], base_angle.expand(n, len(t)),
                     base_scale.expand(n, len(t)))
    # glide (the shortcut): constant velocity along a straight line, no bounce
    paths[SHORTCUT] = (origin + direction * (distance * tt)[..., None], base_angle.expand(n, len(t)),
                       base_scale.expand(n, len(t)))
    # the other motions reuse the draws above (none of their own), so the clips of the six actions stay as they were
    # spiral: out from the circle's centre while turning, the radius growing from 30 % to its full size
    paths["spiral"] = (centre + (radius * (0.3 + 0.7 * tt))[..., None]
                       * torch.stack([torch.cos(around), torch.sin(around)], -1),
                       base_angle.expand(n, len(t)), base_scale.expand(n, len(t)))
    # shake: in place, a small fast jitter along the heading, 5-8 periods per clip
    jitter = 0.06 * torch.sin(wave_phase + 2 * math.pi * (5 + 3 * (periods - 1.0) / 0.5) * tt)
    paths["shake"] = (still + direction * jitter[..., None], base_angle.expand(n, len(t)),
                      base_scale.expand(n, len(t)))
    # sway: in place, tilting back and forth by up to 0.5-0.8 rad, 0.6-1 periods per clip
    tilt = spin.abs() / (2 * math.pi) * torch.sin(zoom_phase + 2 * math.pi * pulses * tt)
    paths["sway"] = (still.expand(n, len(t), 2), base_angle + tilt, base_scale.expand(n, len(t)))
    pick = lambda part: torch.stack([paths[name][part] for name in MOTIONS])[motion, torch.arange(n)]  # noqa: E731
    return pick(0), pick(1), pick(2)


def _backgrounds(n: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """A static texture per clip: smooth random blobs (noise upsampled from 6 x 6) and a gradient, at most 0.35."""
    blobs = F.interpolate(torch.rand(n, 1, 6, 6, generator=generator), size=(size, size), mode="bicubic",
                          align_corners=False)
    ramp = torch.linspace(0, 1, size)
    tilt = _uniform(generator, n, 0, 1).view(n, 1, 1, 1)
    gradient = tilt * ramp.view(1, 1, 1, size) + (1 - tilt) * ramp.view(1, 1, size, 1)
    return (0.2 * blobs.clamp(0, 1) + 0.15 * gradient).clamp(0, 0.35)


def render(digits: torch.Tensor, centre: torch.Tensor, angle: torch.Tensor, scale: torch.Tensor,
           backgrounds: torch.Tensor) -> torch.Tensor:
    """Draw each clip's digit (N x 1 x 28 x 28) at every frame's centre, angle and scale over its background.

    One affine warp (``augment.affine_warp``) for all N x T frames: for every canvas pixel p, read the digit at
    R(-angle) (p - centre) / (scale * 28 / size), in the normalised [-1, 1] coordinates of both images.
    """
    n, t = angle.shape
    size = backgrounds.shape[-1]
    zoom = (size / digits.shape[-1]) / scale.reshape(-1)  # canvas units per digit unit
    cos, sin = torch.cos(angle).reshape(-1) * zoom, torch.sin(angle).reshape(-1) * zoom
    cx, cy = centre.reshape(-1, 2).unbind(-1)
    theta = torch.stack([torch.stack([cos, sin, -(cos * cx + sin * cy)], -1),
                         torch.stack([-sin, cos, sin * cx - cos * cy], -1)], 1)
    ink = affine_warp(digits.repeat_interleave(t, 0), theta, size=(size, size)).view(n, t, 1, size, size)
    return backgrounds[:, None] * (1 - ink) + ink  # the digit is opaque where it has ink


def _camera(videos: torch.Tensor, noise: float, generator: torch.Generator) -> torch.Tensor:
    """What a cheap camera adds, fresh in every frame: a flicker of the brightness (up to +-10 %) and sensor noise
    (Gaussian, standard deviation ``noise``). Nothing about the motion is in it, so a feature that order needs
    can ignore it; a frame difference cannot."""
    n, t = videos.shape[:2]
    gain = 1 + 0.1 * (2 * torch.rand(n, t, 1, 1, 1, generator=generator) - 1)
    grain = noise * torch.randn(videos.shape, generator=generator)
    return (videos * gain + grain).clamp_(0, 1)


def make_moving_digits(images: torch.Tensor, labels: torch.Tensor, n: int, *, motions=ACTIONS, frames: int = FRAMES,
                       size: int = SIZE, noise: float = NOISE, seed: int = 0) -> MovingDigits:
    """``n`` clips of ``frames`` frames (``size`` px): digit i of ``images``/``labels`` (cycled) makes clip i, and
    the clips' motions cycle through ``motions`` (names from ``MOTIONS``), so every class has as many clips.

    Everything random (paths, speeds, backgrounds) comes from ``seed``: the same arguments give the same clips.
    """
    unknown = [m for m in motions if m not in MOTIONS]
    if unknown or not motions:
        raise ValueError(f"motions must be a non-empty list from {MOTIONS}, got {list(motions)}")
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"images must be N x 1 x H x W digits, got shape {tuple(images.shape)}")
    if n < 1 or frames < 2:
        raise ValueError(f"need n >= 1 clips of frames >= 2, got n={n}, frames={frames}")
    generator = torch.Generator().manual_seed(seed)
    which = torch.arange(n) % len(images)
    motion = torch.tensor([MOTIONS.index(motions[i % len(motions)]) for i in range(n)])
    centre, angle, scale = _trajectories(motion, torch.linspace(0, 1, frames), generator)
    videos = render(images[which].cpu().float(), centre, angle, scale, _backgrounds(n, size, generator))
    return MovingDigits(_camera(videos, noise, generator), motion, labels[which].cpu(), centre, angle, scale)
