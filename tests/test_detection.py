import pytest
import torch

from course_lib import detection as det
from course_lib import evaluate, nets, train

CLASSES = [f"c{i}" for i in range(4)]


def _scenes(n=20, seed=0):
    images = torch.rand(30, 3, 32, 32)
    return det.make_scenes(images, torch.arange(30) % 4, n, CLASSES, seed=seed)


def test_scenes_have_one_to_three_objects_with_boxes_inside_the_canvas():
    scenes = _scenes(50)
    assert scenes.x.shape == (50, 3, 64, 64) and scenes.boxes.shape == (50, 3, 4)
    count = (scenes.labels >= 0).sum(1)
    assert count.min() >= 1 and count.max() <= 3
    present = scenes.boxes[scenes.labels >= 0]
    sizes = present[:, 2:] - present[:, :2]
    assert present.min() >= 0 and present.max() <= 64
    assert (sizes[:, 0] == sizes[:, 1]).all() and sizes.min() >= 16 and sizes.max() <= 32


def test_objects_never_overlap():
    scenes = _scenes(50)
    for boxes, labels in zip(scenes.boxes, scenes.labels, strict=True):
        present = boxes[labels >= 0]
        for i in range(len(present)):
            for j in range(i + 1, len(present)):
                a, b = present[i], present[j]
                overlap_x = min(a[2], b[2]) - max(a[0], b[0])
                overlap_y = min(a[3], b[3]) - max(a[1], b[1])
                assert overlap_x <= 0 or overlap_y <= 0


def test_a_pasted_image_fills_its_box():
    image = torch.zeros(1, 3, 32, 32)
    image[:, 0] = 1.0  # pure red
    scenes = det.make_scenes(image, torch.tensor([2]), 5, CLASSES, sizes=(32, 32))
    for x, box, label in zip(scenes.x, scenes.boxes, scenes.labels, strict=True):
        x0, y0, x1, y1 = box[0].long().tolist()
        assert label[0] == 2
        assert torch.allclose(x[:, y0:y1, x0:x1], image[0], atol=1e-5)


def test_a_pasted_image_is_the_photo_itself_resized_into_its_box():
    # a textured photo pasted at its own size is copied pixel for pixel; at half size each pixel is the mean of a
    # 2 x 2 block (bilinear sampling half-way between pixels): the affine warp puts it exactly in its box
    image = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    for side, expected in ((32, image[0]), (16, torch.nn.functional.avg_pool2d(image, 2)[0])):
        scenes = det.make_scenes(image, torch.tensor([1]), 4, CLASSES, sizes=(side, side))
        for x, boxes, labels in zip(scenes.x, scenes.boxes, scenes.labels, strict=True):
            for box in boxes[labels >= 0].long().tolist():
                assert torch.allclose(x[:, box[1]:box[3], box[0]:box[2]], expected, atol=1e-5)


def test_the_same_seed_gives_the_same_scenes():
    images, labels = torch.rand(30, 3, 32, 32), torch.arange(30) % 4
    a = det.make_scenes(images, labels, 10, CLASSES, seed=3)
    b = det.make_scenes(images, labels, 10, CLASSES, seed=3)
    assert torch.equal(a.x, b.x) and torch.equal(a.boxes, b.boxes) and torch.equal(a.labels, b.labels)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="quadrant"):
        det.make_scenes(torch.rand(4, 3, 32, 32), torch.zeros(4, dtype=torch.long), 2, CLASSES, sizes=(16, 40))


def test_targets_list_only_the_present_objects():
    scenes = _scenes(10)
    targets = scenes.targets()
    assert len(targets) == 10
    assert [len(t["labels"]) for t in targets] == (scenes.labels >= 0).sum(1).tolist()


def test_encoding_then_decoding_perfect_outputs_gives_the_boxes_back():
    scenes = _scenes(30)
    heat, box, holds = det.encode(scenes.boxes, scenes.labels, 4, 8, 64)
    assert heat.shape == (30, 4, 8, 8) and box.shape == (30, 4, 8, 8)
    assert int(holds.sum()) == int((scenes.labels >= 0).sum()) == int(heat.sum())
    raw = torch.cat([heat * 20 - 10, torch.logit(box[:, :2].clamp(1e-4, 1 - 1e-4)), box[:, 2:]], dim=1)
    assert evaluate.detection_map(det.decode(raw, 64), scenes.targets()) == pytest.approx(100.0)


def test_detector_and_head_shapes():
    backbone = nets.Backbone(3, 4)
    model = det.Detector(backbone, n_classes=4)
    assert model(torch.rand(2, 3, 64, 64)).shape == (2, 8, 8, 8)
    head = det.DetectionHead(backbone.channels["conv5"], 4)
    assert head(torch.rand(2, backbone.channels["conv5"], 8, 8)).shape == (2, 8, 8, 8)


def test_untrained_head_predicts_background_with_the_prior():
    head = det.DetectionHead(8, 4, prior=0.01).eval()
    with torch.no_grad():
        scores = head(torch.zeros(1, 8, 8, 8))[:, :4].sigmoid()
    assert scores.mean().item() == pytest.approx(0.01, rel=0.2)


def test_training_steps_lower_the_detection_loss():
    torch.manual_seed(0)
    scenes = _scenes(16)
    model = det.Detector(nets.Backbone(3, 4), 4)
    history = train.fit(model, train.batches(scenes.x, scenes.boxes, scenes.labels, batch_size=16), det.detection_loss,
                        steps=6, lr=1e-2, progress=False, log_every=1)
    assert history["loss"][-1] < history["loss"][0]
    assert {"score_loss", "box_loss"} <= set(history.values)


def test_detect_returns_top_k_per_scene_best_first():
    scenes = _scenes(7)
    found = det.detect(det.Detector(nets.Backbone(3, 4), 4), scenes.x, 64, batch_size=3, top_k=5)
    assert len(found) == 7
    assert all(d["boxes"].shape == (5, 4) and d["scores"].shape == (5,) for d in found)
    assert all((d["scores"][:-1] >= d["scores"][1:]).all() for d in found)  # the best first
    assert all((d["boxes"][:, 2:] >= d["boxes"][:, :2]).all() for d in found)  # x0 <= x1 and y0 <= y1


def test_frozen_features_match_the_backbone_in_eval_mode():
    backbone = nets.Backbone(3, 4).eval()
    x = torch.rand(5, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(det.frozen_features(backbone, x, batch_size=2), backbone(x), atol=1e-5)


def test_frozen_batchnorm_keeps_the_backbone_statistics_while_training():
    model = det.Detector(nets.Backbone(3, 4), 4, frozen_batchnorm=True).train()
    bn = model.backbone.stages["conv1"][1]
    before = bn.running_mean.clone()
    model(5.0 + torch.rand(4, 3, 32, 32))
    assert not bn.training and torch.equal(bn.running_mean, before)
    assert model.head.training  # the head's own BatchNorm still trains
