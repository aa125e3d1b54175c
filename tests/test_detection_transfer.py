import dataclasses

import pytest
import torch

from course_lib import checks, config
from course_lib import detection_transfer as dt
from course_lib.data import ImageData
from course_lib.pretext import relative_position as rp

TINY = dataclasses.replace(config.PROFILES["ci"], width=4, batch_size=16, pretrain_images=40, supervised_steps=2,
                           relpos_steps=2, shortcut_steps=2, scenes_train=16, scenes_test=6, head_steps=2,
                           finetune_detector_steps=2, pretrain_seconds=30, detector_batch=8)


def _images(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return ImageData(torch.rand(n, 3, 32, 32, generator=g), torch.arange(n) % 10, [f"c{i}" for i in range(10)])


@pytest.fixture(scope="module")
def tiny_split():
    return dt.split(_images(60), _images(20, seed=1), TINY)


def test_split_keeps_pretraining_photos_out_of_the_scenes(tiny_split):
    assert len(tiny_split.pretrain) == 40
    assert len(tiny_split.scenes) == 16 and len(tiny_split.test_scenes) == 6
    assert "40 CIFAR-10 training photos" in str(tiny_split)


def test_split_refuses_to_pretrain_on_every_photo():
    with pytest.raises(ValueError, match="must leave training photos"):
        dt.split(_images(40), _images(10), TINY)


def test_pretraining_and_transfer_run_and_leave_the_pretrained_backbone_untouched(tiny_split):
    supervised, _ = dt.pretrain_supervised(tiny_split.pretrain, TINY, progress=False)
    relpos, history = dt.pretrain_relative_position(tiny_split.pretrain.x, TINY, progress=False)
    assert "acc" in history.values and isinstance(relpos, rp.RelativePositionNet)
    before = {k: v.clone() for k, v in relpos.backbone.state_dict().items()}
    score, head = dt.frozen_map(relpos.backbone, tiny_split, TINY, progress=False)
    assert 0.0 <= score <= 100.0
    assert 0.0 <= dt.frozen_map(relpos.backbone, tiny_split, TINY, progress=False, recalibrate=True)[0] <= 100.0
    assert all(torch.equal(before[k], v) for k, v in relpos.backbone.state_dict().items())
    score, detector = dt.finetuned_map(supervised, head, tiny_split, TINY, progress=False)
    assert 0.0 <= score <= 100.0 and detector.backbone is not supervised  # fine-tuning works on a copy


def test_pretext_accuracy_and_absolute_position_are_percentages():
    model = rp.RelativePositionNet(dt.random_backbone(TINY))
    x = torch.rand(30, 3, 32, 32)
    assert 0.0 <= dt.pretext_accuracy(model, x, lens=rp.chromatic_aberration) <= 100.0
    assert 0.0 <= dt.absolute_position(model.backbone, x, model.grid) <= 100.0


def test_shortcut_lab_has_a_row_per_run_and_three_measurements(tiny_split, monkeypatch):
    monkeypatch.setattr(dt, "class_probe", lambda *args, **kwargs: 50.0)  # a linear probe, tested in evaluate
    monkeypatch.setattr(dt, "absolute_position", lambda *args, **kwargs: 20.0)
    held_out = _images(12, seed=2)
    table = dt.shortcut_lab(tiny_split.pretrain.x, held_out, held_out, TINY, progress=False)
    assert list(table.index) == list(dt.SHORTCUT_RUNS)
    assert table.shape == (3, 3) and (table.iloc[:, 1:] == [20.0, 50.0]).all().all()


def test_class_probe_is_a_percentage():
    images = _images(40)
    assert 0.0 <= dt.class_probe(dt.random_backbone(TINY), images, images) <= 100.0


def test_tables_name_every_initialisation():
    maps = {"supervised": 60.0, "relative_position": 50.0, "random": 40.0}
    table = dt.transfer_table(maps, maps)
    assert list(table.index) == [dt.NAMES[i] for i in dt.INITS]
    paper = dt.beside_the_paper(maps, maps)
    assert paper.loc["ImageNet labels / CIFAR labels", "paper"] == 56.8
    assert "as on the lecture slide" in set(paper["note"])


def test_neighbour_label_checker():
    dt.check_neighbour_label(lambda r, c: rp.NEIGHBOURS.index((r, c)))
    with pytest.raises(checks.NotYet, match="reading order"):
        dt.check_neighbour_label(lambda r, c: 3 * (r + 1) + (c + 1))  # forgot to skip the centre


def test_box_iou_checker():
    def iou(a, b):
        w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
        area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
        return w * h / (area(a) + area(b) - w * h)

    dt.check_box_iou(iou)
    with pytest.raises(checks.NotYet, match="union"):
        dt.check_box_iou(lambda a, b: 1.0)


def test_pictures_draw():
    x = torch.rand(6, 3, 32, 32)
    assert dt.show_grid(x, n=2) is not None
    assert dt.show_pairs(x, n=2) is not None
    scenes = dt.make_scenes(x, torch.arange(6), 3, [f"c{i}" for i in range(6)])
    one = {"boxes": torch.tensor([[0.0, 0, 20, 20]]), "scores": torch.tensor([0.9]), "labels": torch.tensor([1])}
    found = [one] * 3
    assert dt.show_detections(scenes, found, n=3) is not None


def test_shortcut_lab_aberrates_only_the_runs_that_ask_for_it(tiny_split, monkeypatch):
    lenses = []

    def pretrain(x, profile, seed, steps, colour_dropping, lens, progress, desc):
        lenses.append((lens is not None, colour_dropping))
        return rp.RelativePositionNet(dt.random_backbone(TINY)), None

    monkeypatch.setattr(dt, "pretrain_relative_position", pretrain)
    monkeypatch.setattr(dt, "class_probe", lambda *args, **kwargs: 50.0)
    monkeypatch.setattr(dt, "absolute_position", lambda *args, **kwargs: 20.0)
    held_out = _images(12, seed=2)
    dt.shortcut_lab(tiny_split.pretrain.x, held_out, held_out, TINY, progress=False)
    assert lenses == list(dt.SHORTCUT_RUNS.values()) == [(False, False), (True, False), (True, True)]
