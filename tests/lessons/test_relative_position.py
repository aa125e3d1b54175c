import dataclasses

import pytest
import torch
from matplotlib.patches import Rectangle

from course_lib import checks, config, nets
from course_lib.data import ImageData
from course_lib.lessons import relative_position as lesson
from course_lib.lessons.relative_position import shortcuts
from course_lib.pretext import relative_position as rp

TINY = dataclasses.replace(lesson.SIZES["ci"], width=4, batch_size=16, pretrain_images=40, supervised_steps=2,
                           pretext_steps=2, shortcut_steps=2, train_scenes=16, test_scenes=6, head_steps=2,
                           finetune_steps=2, pretrain_seconds=30, detector_batch=8)
COLOURS = torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]])


def _images(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return ImageData(torch.rand(n, 3, 32, 32, generator=g), torch.arange(n) % 10, [f"c{i}" for i in range(10)])


def _squares(n, seed=0):
    """Easy objects: a bright square of the class's colour (4 classes) in the middle of a dark photo."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 4
    x = 0.05 * torch.rand(n, 3, 32, 32, generator=g)
    x[:, :, 8:24, 8:24] += COLOURS[y][:, :, None, None]
    return ImageData(x.clamp(0, 1), y, [f"c{i}" for i in range(4)])


def _coordinates(n, side=48, seed=0):
    """Photos whose pixels say where they are (channel 0: row, channel 1: column): position is written in them."""
    ramp = torch.arange(side, dtype=torch.float) / side
    x = torch.stack([ramp.view(side, 1).expand(side, side), ramp.view(1, side).expand(side, side),
                     torch.full((side, side), 0.5)])
    return (x + 0.02 * torch.rand(n, 3, side, side, generator=torch.Generator().manual_seed(seed))).clamp(0, 1)


class _Oracle(torch.nn.Module):
    """Reads the offset between two patches of ``_coordinates`` photos from their mean row and column."""

    grid = lesson.GRID

    def forward(self, first, second):
        shift = (second[:, :2].mean((2, 3)) - first[:, :2].mean((2, 3))) * self.grid.image_side / self.grid.pitch
        d_row, d_col = shift.round().long().unbind(1)
        index = 3 * (d_row + 1) + d_col + 1  # 0 ... 8 on the full grid; the centre (4) is not a label
        return torch.nn.functional.one_hot(index - (index > 4).long(), len(rp.NEIGHBOURS)).float()


class _Constant(torch.nn.Module):
    grid = lesson.GRID

    def forward(self, first, second):
        return torch.eye(len(rp.NEIGHBOURS))[:1].expand(len(first), -1)


@pytest.fixture(scope="module")
def tiny_split():
    return lesson.split(_images(60), _images(20, seed=1), TINY)


def test_sizes_add_the_lessons_own_to_the_shared_ones():
    for name, sizes in lesson.SIZES.items():
        assert sizes.name == name and sizes.width == config.PROFILES[name].width
    assert lesson.SIZES["lab"].pretext_steps == 500 and lesson.SIZES["full"].finetune_steps == 1000


def test_split_keeps_pretraining_photos_out_of_the_scenes(tiny_split):
    assert len(tiny_split.pretrain) == 40
    assert len(tiny_split.scenes) == 16 and len(tiny_split.test_scenes) == 6
    assert "40 CIFAR-10 training photos" in str(tiny_split)


def test_split_refuses_to_pretrain_on_every_photo():
    with pytest.raises(ValueError, match="must leave training photos"):
        lesson.split(_images(40), _images(10), TINY)


def test_pretraining_and_transfer_run_and_leave_the_pretrained_backbone_untouched(tiny_split):
    supervised, _ = lesson.pretrain_supervised(tiny_split.pretrain, TINY, progress=False)
    relpos, history = lesson.pretrain_relative_position(tiny_split.pretrain.x, TINY, progress=False)
    assert "acc" in history.values and isinstance(relpos, rp.RelativePositionNet)
    before = {k: v.clone() for k, v in relpos.backbone.state_dict().items()}
    _, head = lesson.frozen_map(relpos.backbone, tiny_split, TINY, progress=False)
    lesson.frozen_map(relpos.backbone, tiny_split, TINY, progress=False, recalibrate=True)
    assert all(torch.equal(before[k], v) for k, v in relpos.backbone.state_dict().items())
    _, detector = lesson.finetuned_map(supervised, head, tiny_split, TINY, progress=False)
    assert detector.backbone is not supervised  # fine-tuning works on a copy (levels: the easy-scenes test)


def test_pretrainings_start_from_the_random_init_of_the_same_seed(tiny_split):
    start = nets.random_backbone(3, TINY.width, seed=3)
    no_steps = dataclasses.replace(TINY, supervised_steps=0, pretext_steps=0)
    supervised, _ = lesson.pretrain_supervised(tiny_split.pretrain, no_steps, seed=3, progress=False)
    relpos, _ = lesson.pretrain_relative_position(tiny_split.pretrain.x, no_steps, seed=3, progress=False)
    for trained in (supervised, relpos.backbone):
        assert torch.equal(trained.stages.conv1[0].weight, start.stages.conv1[0].weight)


def test_detection_transfer_finds_the_objects_of_easy_scenes():
    # coloured squares on dark photos: even frozen random features locate and name them; a broken pipeline scores ~0
    sizes = dataclasses.replace(TINY, train_scenes=48, test_scenes=16, head_steps=120, detector_batch=16,
                                pretrain_seconds=600)  # every step, however busy the machine
    data = lesson.split(_squares(80), _squares(20, seed=1), sizes)
    backbone = nets.random_backbone(3, sizes.width, seed=0)
    frozen, head = lesson.frozen_map(backbone, data, sizes, progress=False)
    finetuned, _ = lesson.finetuned_map(backbone, head, data, sizes, progress=False)
    assert frozen > 50 and finetuned > 40


def test_pretext_accuracy_is_100_for_an_oracle_and_chance_for_a_constant_answer():
    x = _coordinates(200)
    state = torch.get_rng_state()
    assert lesson.pretext_accuracy(_Oracle(), x, colour_dropping=False) == pytest.approx(100.0)
    assert lesson.pretext_accuracy(_Constant(), x, colour_dropping=False) < 30  # chance: 12.5 %
    assert torch.equal(state, torch.get_rng_state())  # the pairs come from their own stream


def test_absolute_position_is_read_where_the_photos_write_it_and_not_from_noise():
    backbone = nets.random_backbone(3, 4, seed=0)
    assert lesson.absolute_position(backbone, _coordinates(90, side=32), lesson.GRID) > 80
    assert lesson.absolute_position(backbone, torch.rand(90, 3, 32, 32), lesson.GRID) < 50  # chance: 11.1 %


def test_shortcut_lab_has_a_row_per_run_and_three_measurements(tiny_split, monkeypatch):
    monkeypatch.setattr(shortcuts, "class_probe", lambda *args, **kwargs: 50.0)  # a linear probe, tested in evaluate
    monkeypatch.setattr(shortcuts, "absolute_position", lambda *args, **kwargs: 20.0)
    held_out = _images(12, seed=2)
    table = lesson.shortcut_lab(tiny_split.pretrain.x, held_out, held_out, TINY, progress=False)
    assert list(table.index) == list(lesson.SHORTCUT_RUNS)
    assert table.shape == (3, 3) and (table.iloc[:, 1:] == [20.0, 50.0]).all().all()


def test_class_probe_separates_classes_that_frozen_features_can_tell_apart():
    def colours(n, seed):
        g = torch.Generator().manual_seed(seed)
        y = torch.arange(n) % 2
        x = 0.5 * torch.rand(n, 3, 32, 32, generator=g)
        x[y == 0, 0] += 0.5  # reddish
        x[y == 1, 2] += 0.5  # bluish
        return ImageData(x, y, ["red", "blue"])

    assert lesson.class_probe(nets.random_backbone(3, 4, seed=0), colours(40, 0), colours(40, 1)) > 90


def test_tables_name_every_initialisation():
    maps = {"supervised": 60.0, "relative_position": 50.0, "random": 40.0}
    table = lesson.transfer_table(maps, maps)
    assert list(table.index) == [lesson.NAMES[i] for i in lesson.INITS]
    paper = lesson.beside_the_paper(maps, maps)
    assert paper.loc["ImageNet labels / ours: CIFAR labels", "paper"] == 56.8
    assert paper.loc["no pretraining / ours: PyTorch's default init", "paper"] == 45.6
    assert "as on the lecture slide" in set(paper["note"])
    assert {v for v in paper["paper"] if v != "-"} == {56.8, 51.1, 45.6}  # only the slide's three rows


def test_neighbour_label_checker():
    lesson.check_neighbour_label(lambda r, c: rp.NEIGHBOURS.index((r, c)))
    with pytest.raises(checks.NotYet, match="reading order"):
        lesson.check_neighbour_label(lambda r, c: 3 * (r + 1) + (c + 1))  # forgot to skip the centre


def test_box_iou_checker():
    def iou(a, b):
        w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
        area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
        return w * h / (area(a) + area(b) - w * h)

    lesson.check_box_iou(iou)
    with pytest.raises(checks.NotYet, match="union"):
        lesson.check_box_iou(lambda a, b: 1.0)


def _rectangles(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def test_grid_picture_draws_the_nine_patches_on_each_photo_the_same_way_every_time():
    x = torch.rand(6, 3, 32, 32)
    state = torch.get_rng_state()
    fig = lesson.show_grid(x, n=2)
    assert torch.equal(state, torch.get_rng_state())  # the jitter comes from its own stream
    assert len(fig.axes) == 2 and "12-px patches" in fig._suptitle.get_text()
    for ax in fig.axes:
        assert len(ax.images) == 1 and len(_rectangles(ax)) == 9 and len(ax.texts) == 8  # 8 labelled neighbours
    again = lesson.show_grid(x, n=2)
    assert [r.get_xy() for r in _rectangles(fig.axes[0])] == [r.get_xy() for r in _rectangles(again.axes[0])]


def test_pairs_picture_shows_each_pair_with_its_label():
    x = torch.rand(6, 3, 32, 32)
    state = torch.get_rng_state()
    fig = lesson.show_pairs(x, n=2)
    assert torch.equal(state, torch.get_rng_state())
    assert len(fig.axes) == 4 and all(len(ax.images) == 1 for ax in fig.axes)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0::2] == ["first", "first"] and all(t.startswith("second: y=") for t in titles[1::2])


def test_detections_picture_draws_the_true_boxes_and_the_confident_detections():
    x = torch.rand(6, 3, 32, 32)
    scenes = lesson.make_scenes(x, torch.arange(6), 3, [f"c{i}" for i in range(6)])
    found = [{"boxes": torch.tensor([[0.0, 0, 20, 20], [5.0, 5, 30, 30]]), "scores": torch.tensor([0.9, 0.1]),
              "labels": torch.tensor([1, 2])}] * 3
    fig = lesson.show_detections(scenes, found, n=3)
    assert len(fig.axes) == 3
    for ax, labels in zip(fig.axes, scenes.labels, strict=True):
        objects = int((labels >= 0).sum())
        assert len(ax.images) == 1 and len(_rectangles(ax)) == objects + 1  # the 0.1 detection is left out
        assert [t.get_text() for t in ax.texts] == ["c1 0.90"]
    plain = lesson.show_detections(scenes, n=3)  # no detections: the true boxes, named
    assert [len(ax.texts) for ax in plain.axes] == (scenes.labels >= 0).sum(1).tolist()


def test_shortcut_lab_aberrates_only_the_runs_that_ask_for_it(tiny_split, monkeypatch):
    lenses = []

    def pretrain(x, sizes, seed, steps, colour_dropping, lens, progress, desc):
        lenses.append((lens is not None, colour_dropping))
        return rp.RelativePositionNet(nets.random_backbone(3, TINY.width, seed)), None

    monkeypatch.setattr(shortcuts, "pretrain_relative_position", pretrain)
    monkeypatch.setattr(shortcuts, "class_probe", lambda *args, **kwargs: 50.0)
    monkeypatch.setattr(shortcuts, "absolute_position", lambda *args, **kwargs: 20.0)
    held_out = _images(12, seed=2)
    lesson.shortcut_lab(tiny_split.pretrain.x, held_out, held_out, TINY, progress=False)
    assert lenses == list(lesson.SHORTCUT_RUNS.values()) == [(False, False), (True, False), (True, True)]
