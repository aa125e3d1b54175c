"""Sound as supervision: how a picture and a sound supervise each other (notebook 08).

The data is a set of **videos**: each one a frame and its soundtrack. Here a simulated video is an image of a digit and
a recording of someone saying that digit, paired **once** (``simulate_videos``); that pairing is the simulator's only
use of digit labels, as a camera's is to film a dog barking. Everything below learns from the pairs alone.

Two ideas of the lecture's Ex V:

* **Classes from sound** (Owens et al., "Ambient Sound Provides Supervision for Visual Learning", ECCV 2016): summarise
  each sound by statistics of its spectrogram, cluster them with k-means -- no labels -- and train the image network
  to predict the cluster id of the sound of its own video.

      (input, target) = (frame, k-means cluster of its soundtrack's statistics)   loss: cross-entropy over k clusters

* **Audio-visual correspondence, AVC** (Arandjelović & Zisserman, "Look, Listen and Learn", ICCV 2017): does this
  frame go with this sound? A positive is a video's own frame and soundtrack; a negative is a frame with the sound of
  *another video drawn at random* -- which may say the same digit, as a negative in real video may show the same kind
  of thing. An image tower and an audio tower, fused late.

      (input, target) = ((frame, sound), 1 if from the same video else 0)       loss: binary cross-entropy

  ``ConcatFusion`` is L3-Net's fusion: the two embeddings concatenated, then a small classifier. ``AVENet`` is the
  fusion of "Objects that Sound" (ECCV 2018): both embeddings L2-normalised, and the classifier sees only their
  squared distance D = ||a - v||^2, through logit = b - s D with learnable b and s > 0. A free linear layer on D
  (the paper's) may learn the sign the wrong way round at first; fixing the direction -- near means "together" --
  keeps the embeddings a shared space in which retrieval by distance works.

  ``avc_loss`` builds the same pairs from a batch of matched videos (``video_batches``): the B own pairs are the
  positives, each frame with the soundtrack of another video of the batch a negative (never its own, by an offset of
  1 ... B - 1), half and half; notebook 08's exercise writes it and ``video_correspondence_loss`` trains with it.

  ``in_batch_loss`` asks the same question of *every* frame against *every* sound of a batch of videos: the diagonal
  pairs are positives, every off-diagonal pair a negative (whatever it shows), as contrastive losses do.

The lesson of the lecture's pitfall is in ``correspondence_batches``: positives and negatives must be *sampled the
same way*. If the positives' sounds were prepared differently (padded at the start, say) from the negatives', the
network can tell them apart from the preparation alone and learns nothing about digits or objects.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans
from torch import nn

from course_lib.audio import pair_by_digit
from course_lib.nets import Backbone, Classifier, mlp

# ---------------------------------------------------------------- classes from sound (Owens et al. 2016)

def sound_statistics(specs: torch.Tensor) -> torch.Tensor:
    """A summary of each sound that ignores *when* things happen: per mel band, the mean and the spread of the
    log energy over time, and the mean size of its change from frame to frame (how fast the band moves).

    ``specs`` is N x 1 x mels x frames; returns N x 3 mels. Owens et al. summarise the cochleagram of a video's
    sound in the same spirit (band energies and their modulation statistics, after McDermott & Simoncelli).
    """
    bands = specs.flatten(1, 2) if specs.ndim == 4 else specs  # N x mels x frames
    change = bands.diff(dim=-1).abs().mean(-1)
    return torch.cat([bands.mean(-1), bands.std(-1), change], dim=1)


def sound_clusters(stats: torch.Tensor, k: int, seed: int = 0) -> tuple[torch.Tensor, KMeans]:
    """k-means (scikit-learn) on standardised sound statistics: (cluster id of every sound, the fitted model).

    No label is used: the cluster ids are the "classes from sound" that then supervise the image network
    (``evaluate.cluster_purity`` grades them against a labelling afterwards).
    """
    mean, std = stats.mean(0), stats.std(0) + 1e-6
    kmeans = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(((stats - mean) / std).cpu().numpy())
    return torch.as_tensor(kmeans.labels_, dtype=torch.int64), kmeans


def image_cluster_batches(images: torch.Tensor, soundtrack: torch.Tensor, clusters: torch.Tensor, batch_size: int,
                          seed: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless (frames, cluster id of each frame's own soundtrack) batches of random videos: image i is heard with
    recording ``soundtrack[i]`` (``simulate_videos``), always the same one. No digit label is read."""
    generator = torch.Generator().manual_seed(seed)
    targets = clusters[soundtrack.cpu()].to(images.device)
    while True:
        videos = torch.randint(len(images), (batch_size,), generator=generator).to(images.device)
        yield images[videos], targets[videos]


def cluster_loss(model: Classifier, batch):
    """Cross-entropy of the image network's guess of the sound's cluster (the network: ``nets.Classifier`` with
    k outputs, as in Owens et al.: a backbone and a linear layer over the clusters)."""
    images, clusters = batch
    logits = model(images)
    return F.cross_entropy(logits, clusters), {"acc": (logits.argmax(1) == clusters).float().mean()}


# ---------------------------------------------------------------- audio-visual correspondence (L3-Net, AVE-Net)

def simulate_videos(image_digits: torch.Tensor, sound_digits: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """The simulated videos, drawn once: for every image, the index of one recording of its digit (its soundtrack).

    This is the *simulator's* use of the digit labels -- a camera films a dog with its bark -- and the only one: the
    learner sees the pairs, never the digits. Recordings are drawn with replacement within each digit, so there can
    be more videos than recordings (a recording then sounds in several videos, as a bark does in many).
    """
    return pair_by_digit(image_digits.cpu(), sound_digits.cpu(), torch.Generator().manual_seed(seed))


def _another_video(videos: torch.Tensor, n_videos: int, generator: torch.Generator) -> torch.Tensor:
    """For each video, a different video drawn uniformly at random (what it shows is not looked at)."""
    return (videos + torch.randint(1, n_videos, videos.shape, generator=generator)) % n_videos


def correspondence_batches(images: torch.Tensor, soundtrack: torch.Tensor, positive_audio: torch.Tensor,
                           batch_size: int, negative_audio: torch.Tensor | None = None, seed: int = 0
                           ) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Endless (frames, spectrograms, y) batches of the AVC task on fixed videos (``soundtrack[i]``: the recording of
    video i): y = 1 for a video's own frame and soundtrack, y = 0 for its frame with the soundtrack of another video
    drawn at random (half of each, by a coin per pair). No digit label is read: a negative may say the very digit
    the frame shows, as in real video.

    The recording's spectrogram is taken from ``positive_audio`` for positives and from ``negative_audio`` (default:
    the same tensor) for negatives. Give both the same tensor: *positives and negatives sampled the same way*. Two
    differently prepared tensors are the shortcut lab: then the preparation alone gives the answer away.
    """
    negative_audio = positive_audio if negative_audio is None else negative_audio
    if positive_audio.shape != negative_audio.shape:
        raise ValueError("positive and negative spectrograms must describe the same recordings (same shape)")
    generator = torch.Generator().manual_seed(seed)
    soundtrack, device = soundtrack.cpu(), images.device
    while True:
        videos = torch.randint(len(images), (batch_size,), generator=generator)
        y = torch.randint(2, (batch_size,), generator=generator)
        heard = torch.where(y.bool(), videos, _another_video(videos, len(images), generator))
        sounds, y = soundtrack[heard].to(device), y.to(device)
        audio = torch.where(y.bool()[:, None, None, None], positive_audio[sounds], negative_audio[sounds])
        yield images[videos.to(device)], audio, y.float()


def video_batches(images: torch.Tensor, soundtrack: torch.Tensor, audio: torch.Tensor, batch_size: int,
                  seed: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless (frames, spectrograms) batches of ``batch_size`` different videos, each frame with its own soundtrack:
    the input of ``in_batch_loss`` (every other video of the batch supplies the negatives)."""
    generator = torch.Generator().manual_seed(seed)
    soundtrack, device = soundtrack.cpu(), images.device
    while True:
        videos = torch.randperm(len(images), generator=generator)[:batch_size]
        yield images[videos.to(device)], audio[soundtrack[videos].to(device)]


class ConcatFusion(nn.Module):
    """L3-Net's fusion: pooled image and audio embeddings concatenated, then a two-layer classifier -> one logit."""

    def __init__(self, image_tower: Backbone, audio_tower: Backbone, hidden: int = 128):
        super().__init__()
        self.image_tower, self.audio_tower = image_tower, audio_tower
        self.head = mlp(image_tower.out_dim + audio_tower.out_dim, hidden, 1)

    def embed_image(self, images: torch.Tensor) -> torch.Tensor:
        return self.image_tower.embed(images)

    def embed_audio(self, specs: torch.Tensor) -> torch.Tensor:
        return self.audio_tower.embed(specs)

    def fuse(self, v: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """The correspondence logit of embedded pairs (v_i, a_i)."""
        return self.head(torch.cat([v, a], dim=1)).squeeze(1)

    def forward(self, images: torch.Tensor, specs: torch.Tensor) -> torch.Tensor:
        return self.fuse(self.embed_image(images), self.embed_audio(specs))


class AVENet(nn.Module):
    """The AVE-Net fusion: each tower ends in a small MLP and an L2 normalisation, so both live on one unit sphere;
    the classifier sees only D = ||a - v||^2 and says "together" with logit = b - s D (s = softplus(.) > 0)."""

    def __init__(self, image_tower: Backbone, audio_tower: Backbone, dim: int = 64, hidden: int = 128,
                 s: float = 5.0):
        super().__init__()
        self.image_tower, self.audio_tower = image_tower, audio_tower
        self.image_proj = mlp(image_tower.out_dim, hidden, dim)
        self.audio_proj = mlp(audio_tower.out_dim, hidden, dim)
        # two random unit vectors in many dimensions are almost orthogonal, D = ||a - v||^2 ~ 2: start undecided there
        self.raw_s = nn.Parameter(torch.tensor(s).expm1().log())  # s = softplus(raw_s) > 0: the fixed direction
        self.b = nn.Parameter(torch.tensor(2.0 * s))  # the threshold: D < b / s means "together"

    @property
    def s(self) -> torch.Tensor:
        return F.softplus(self.raw_s)

    def embed_image(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.image_proj(self.image_tower.embed(images)), dim=1)

    def embed_audio(self, specs: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.audio_proj(self.audio_tower.embed(specs)), dim=1)

    def fuse(self, v: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return self.b - self.s * (a - v).pow(2).sum(1)

    def forward(self, images: torch.Tensor, specs: torch.Tensor) -> torch.Tensor:
        return self.fuse(self.embed_image(images), self.embed_audio(specs))


def correspondence_loss(model: nn.Module, batch):
    """Binary cross-entropy of "do this image and this sound belong together?", and the accuracy."""
    images, specs, y = batch
    logits = model(images, specs)
    return F.binary_cross_entropy_with_logits(logits, y), {"acc": ((logits > 0).float() == y).float().mean()}


def avc_loss(fuse, v: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """The AVC loss of a batch of B *different* videos given as matched embeddings: ``v[i]`` of video i's frame,
    ``a[i]`` of its own soundtrack; ``fuse(v, a)`` is the correspondence logit of rows (v_i, a_i) (a model's ``fuse``).

    The B own pairs are the positives (label 1). The negatives (label 0) are built from the same batch: each frame
    with the soundtrack of *another video of the batch*, drawn at random with an offset of 1 ... B - 1, never 0 (as
    ``_another_video`` draws one in the whole set): a negative is never the video's own pair, though it may say the
    same digit. Binary cross-entropy on the logits, averaged over the 2B pairs: positives and negatives half each.
    Both come from the same ``a``: sampled the same way. (Notebook 08's exercise; ``video_correspondence_loss``
    trains with it.)"""
    n = len(v)
    other = (torch.arange(n) + torch.randint(1, n, (n,))) % n  # every frame: a video of the batch not its own
    logits = fuse(torch.cat([v, v]), torch.cat([a, a[other.to(a.device)]]))
    labels = torch.cat([torch.ones(n), torch.zeros(n)]).to(logits)
    return F.binary_cross_entropy_with_logits(logits, labels)


def video_correspondence_loss(model: nn.Module, batch, avc=avc_loss):
    """For ``train.fit`` on ``video_batches`` (B different videos, each frame with its own soundtrack): the loss is
    ``avc(model.fuse, v, a)`` of the embedded batch, which builds the negatives itself (default the course's
    ``avc_loss``; notebook 08 passes a student's own). Metric ``acc``, measured the course's way whatever ``avc``
    does: balanced accuracy on the own pairs and on each frame with the next video's soundtrack (chance 50 %)."""
    images, specs = batch
    v, a = model.embed_image(images), model.embed_audio(specs)
    with torch.no_grad():
        own, other = model.fuse(v, a), model.fuse(v, a.roll(1, dims=0))
        acc = ((own > 0).float().mean() + (other <= 0).float().mean()) / 2
    return avc(model.fuse, v, a), {"acc": acc}


def score_matrix(model: nn.Module, audio_embeddings: torch.Tensor, image_embeddings: torch.Tensor) -> torch.Tensor:
    """The correspondence logit of every (recording, image) pair of embeddings: an A x I matrix, by the model's own
    fusion (``fuse``) applied to every pair."""
    n_a, n_v = len(audio_embeddings), len(image_embeddings)
    pairs_a = audio_embeddings[:, None].expand(-1, n_v, -1).flatten(0, 1)
    pairs_v = image_embeddings[None].expand(n_a, -1, -1).flatten(0, 1)
    return model.fuse(pairs_v, pairs_a).view(n_a, n_v)


def in_batch_loss(model: nn.Module, batch):
    """AVC over every (sound, frame) pair of a batch of B videos: the B own pairs (the diagonal) are positives, the
    B (B - 1) others negatives -- whatever digits they show, since the learner does not know. Binary cross-entropy
    with the positives and the negatives weighted half each, so that the logit's threshold stays where a test set
    of half positives needs it; the accuracy is that balanced accuracy."""
    images, specs = batch
    logits = score_matrix(model, model.embed_audio(specs), model.embed_image(images))
    own = torch.eye(len(images), device=logits.device, dtype=torch.bool)
    losses = F.binary_cross_entropy_with_logits(logits, own.float(), reduction="none")
    right = ((logits > 0) == own).float()
    balanced = (losses[own].mean() + losses[~own].mean()) / 2
    return balanced, {"acc": (right[own].mean() + right[~own].mean()) / 2}


@torch.no_grad()
def pair_scores(model: nn.Module, audio_embeddings: torch.Tensor, image_embeddings: torch.Tensor,
                chunk: int = 64) -> torch.Tensor:
    """The model's correspondence logit for every (recording, image) pair: an A x I matrix (retrieval by the
    classifier itself; the concatenation fusion has no other way to compare the two modalities)."""
    model.eval()
    return torch.cat([score_matrix(model, audio_embeddings[start:start + chunk], image_embeddings)
                      for start in range(0, len(audio_embeddings), chunk)])


def cosine_scores(audio_embeddings: torch.Tensor, image_embeddings: torch.Tensor) -> torch.Tensor:
    """Cosine similarity of every (recording, image) pair of raw embeddings: meaningful only in a shared space."""
    return F.normalize(audio_embeddings, dim=1) @ F.normalize(image_embeddings, dim=1).T


def chance_recall(query_labels: torch.Tensor, gallery_labels: torch.Tensor) -> float:
    """Recall@1 of a random ranking: sum over classes c of (queries of c) x (gallery share of c), per query."""
    n = int(max(query_labels.max(), gallery_labels.max())) + 1
    q = torch.bincount(query_labels.cpu(), minlength=n).double()
    g = torch.bincount(gallery_labels.cpu(), minlength=n).double()
    return float((q / q.sum() * g / g.sum()).sum())
