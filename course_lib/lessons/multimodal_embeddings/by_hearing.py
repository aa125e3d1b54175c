"""Part 4: classes just by hearing (SoundNet): a vision teacher, a distilled sound network, a supervised one."""

from __future__ import annotations

import pandas as pd

from course_lib import config, evaluate, nets, pretrained, train
from course_lib.lessons import sound_supervision as ss
from course_lib.lessons.multimodal_embeddings.image_sound import NOTEBOOK, Sizes
from course_lib.pretext import soundnet as sn

# --- part 4: classes just by hearing (SoundNet) --------------------------------------------------------------------

def _sound_classifier(sizes: Sizes, seed: int, device) -> nets.Classifier:
    """A sound network: 08's audio tower (its initial weights for ``seed``) and a linear layer over the digits."""
    _, audio_tower = ss.towers(sizes, seed, device)
    with config.isolated_rng(seed + 5):
        return nets.Classifier(audio_tower, 10).to(device)


def train_teacher(d: ss.SoundsAndImages, sizes: Sizes, seed: int = 0, progress: bool = True):
    """The vision network: a digit classifier trained on labelled MNIST images (SoundNet's teachers were trained on
    labelled ImageNet and Places images). Returns (classifier, history)."""
    image_tower, _ = ss.towers(sizes, seed, d.images.device)
    with config.isolated_rng(seed + 6):
        teacher = nets.Classifier(image_tower, 10).to(d.images.device)
    desc = "vision teacher (image labels)"
    history = pretrained.load_or_train(
        teacher, f"{NOTEBOOK}/{desc}",
        lambda: train.train_classifier(teacher, d.images, d.image_digits, steps=sizes.teacher_steps,
                                       batch_size=sizes.pairs_per_step, seed=seed, max_seconds=sizes.seconds,
                                       progress=progress, desc=desc),
        sizes=sizes, seed=seed, loss="cross-entropy")
    return teacher.eval(), history


def train_soundnet(teacher: nets.Classifier, d: ss.SoundsAndImages, sizes: Sizes, seed: int = 0,
                   progress: bool = True):
    """The sound network learns the teacher's posteriors on each video's frame from the video's sound (KL); no
    label of any sound is read. Returns (the sound classifier, history)."""
    model = sn.Distillation(_sound_classifier(sizes, seed, d.images.device), teacher)
    stream = sn.video_batches(d.images, d.soundtrack, d.sounds, sizes.pairs_per_step, seed)
    desc = "SoundNet student (teacher's posteriors)"
    history = pretrained.load_or_train(
        model, f"{NOTEBOOK}/{desc}",
        lambda: train.fit(model, stream, sn.soundnet_loss, steps=sizes.sound_steps, max_seconds=sizes.seconds,
                          desc=desc, progress=progress),
        sizes=sizes, seed=seed, loss=sn.soundnet_loss)
    return model.student.eval(), history


def train_sound_supervised(d: ss.SoundsAndImages, sizes: Sizes, seed: int = 0, progress: bool = True):
    """The same sound network, from the same initial weights, for as many steps, told the digit of every training
    recording. Returns (classifier, history)."""
    model = _sound_classifier(sizes, seed, d.images.device)
    desc = "sound network (sound labels)"
    history = pretrained.load_or_train(
        model, f"{NOTEBOOK}/{desc}",
        lambda: train.train_classifier(model, d.sounds, d.sound_digits, steps=sizes.sound_steps,
                                       batch_size=sizes.pairs_per_step, seed=seed, max_seconds=sizes.seconds,
                                       progress=progress, desc=desc),
        sizes=sizes, seed=seed, loss="cross-entropy")
    return model.eval(), history


def soundnet_table(teacher, student, supervised, d: ss.SoundsAndImages) -> pd.DataFrame:
    """Accuracy (%) of digit classification: the teacher on MNIST test images; the two sound networks on the
    held-out voice (a speaker neither ever heard). Chance is 10 %."""
    rows = {"vision teacher (image labels), MNIST test images": evaluate.accuracy(teacher, d.test_images,
                                                                                  d.test_image_digits),
            "SoundNet student (no sound label), held-out voice": evaluate.accuracy(student, d.test_sounds,
                                                                                   d.test_sound_digits),
            "sound network told the digits, held-out voice": evaluate.accuracy(supervised, d.test_sounds,
                                                                               d.test_sound_digits)}
    return pd.DataFrame({"accuracy (%)": rows, "chance (%)": dict.fromkeys(rows, 10.0)})
