"""Classes just by hearing: a vision network teaches a sound network (SoundNet; Aytar, Vondrick & Torralba,
"SoundNet: Learning Sound Representations from Unlabeled Video", NeurIPS 2016).

The lecture's first sound bullet: "infer object and scene classes just hearing the videos". SoundNet transfers what
a *vision* network knows into a *sound* network through unlabelled video: the vision network (trained on labelled
images: ImageNet objects, Places scenes) looks at a video's frames, and its class posteriors are the targets of the
sound network listening to the same video. No label is ever attached to a sound:

    (input, target) = (the video's sound, the vision network's class posteriors on the video's frame)
    loss: KL( teacher posteriors || student posteriors )          (the paper: KL divergence, the same)

Afterwards the sound network names classes from sound alone. Here the videos are notebook 08's (an MNIST image and
one recording of its digit, paired once), the teacher a digit classifier trained on labelled *images*, and the
student the audio tower with a linear layer over the ten digits.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

TEMPERATURE = 1.0  # the teacher's posteriors are used as they are (SoundNet: the softmax outputs)


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                      temperature: float = TEMPERATURE) -> torch.Tensor:
    """KL(teacher || student) of the two networks' class posteriors (softmax at ``temperature``), averaged over the
    batch; the teacher is a fixed target (no gradient flows into it)."""
    teacher = F.softmax(teacher_logits.detach() / temperature, dim=1)
    student = F.log_softmax(student_logits / temperature, dim=1)
    return F.kl_div(student, teacher, reduction="batchmean")


def video_batches(images: torch.Tensor, soundtrack: torch.Tensor, sounds: torch.Tensor, batch_size: int,
                  seed: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless (frames, spectrograms) batches of random videos: frame i with its own soundtrack
    ``sounds[soundtrack[i]]``. No label is read."""
    generator = torch.Generator().manual_seed(seed)
    index = soundtrack.to(images.device)
    while True:
        videos = torch.randint(len(images), (batch_size,), generator=generator).to(images.device)
        yield images[videos], sounds[index[videos]]


class Distillation(nn.Module):
    """The student (a sound classifier, trained) and the teacher (an image classifier, frozen) of SoundNet.
    ``forward`` is the student's: a spectrogram's class logits."""

    def __init__(self, student: nn.Module, teacher: nn.Module):
        super().__init__()
        self.student = student
        self.teacher = teacher.eval().requires_grad_(False)

    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.eval()  # the teacher's BatchNorm keeps its running statistics: it only answers
        return self

    def forward(self, specs: torch.Tensor) -> torch.Tensor:
        return self.student(specs)


def soundnet_loss(model: Distillation, batch):
    """For ``train.fit``: a batch of videos (frames, spectrograms); the student hears the sound, the teacher sees the
    frame. ``agree``: how often the student's top class is the teacher's."""
    frames, specs = batch
    with torch.no_grad():
        teacher_logits = model.teacher(frames)
    student_logits = model.student(specs)
    agree = (student_logits.argmax(1) == teacher_logits.argmax(1)).float().mean()
    return distillation_loss(student_logits, teacher_logits), {"agree": agree}
