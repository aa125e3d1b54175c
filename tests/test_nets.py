import pytest
import random_stream
import torch

from course_lib import nets


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_every_stage_has_the_documented_shape(shape):
    backbone = nets.Backbone(shape[0], width=8)
    x = torch.rand(2, *shape)
    sides = {28: (14, 7, 7, 3, 3), 32: (16, 8, 8, 4, 4)}[shape[1]]
    for stage, side, mult in zip(nets.STAGES, sides, (1, 2, 4, 4, 8), strict=True):
        assert backbone(x, stage).shape == (2, 8 * mult, side, side)


def test_features_of_several_stages_match_single_calls():
    backbone = nets.Backbone(1, width=4).eval()
    x = torch.rand(3, 1, 28, 28)
    feats = backbone.features(x, ["conv2", "conv4"])
    assert set(feats) == {"conv2", "conv4"}
    assert torch.allclose(feats["conv4"], backbone(x, "conv4"))


def test_unknown_stage_is_an_error():
    with pytest.raises(ValueError, match="conv1"):
        nets.Backbone(1, 4)(torch.rand(1, 1, 28, 28), "fc6")


def test_embed_and_classifier_shapes():
    backbone = nets.Backbone(3, width=4)
    assert backbone.embed(torch.rand(5, 3, 32, 32)).shape == (5, backbone.out_dim)
    assert nets.Classifier(backbone, 7)(torch.rand(5, 3, 32, 32)).shape == (5, 7)


def test_mlp_head_shape():
    assert nets.mlp(16, 32, 4)(torch.rand(6, 16)).shape == (6, 4)


def test_random_backbone_is_seeded_and_in_eval_mode():
    a, b, c = nets.random_backbone(1, 4, seed=3), nets.random_backbone(1, 4, seed=3), nets.random_backbone(1, 4, seed=4)
    weight = lambda m: m.stages["conv1"][0].weight  # noqa: E731
    assert torch.equal(weight(a), weight(b)) and not torch.equal(weight(a), weight(c))
    assert not a.training and not any(m.training for m in a.modules())


def test_random_backbone_leaves_the_callers_random_stream_alone():
    with random_stream.left_alone():
        nets.random_backbone(1, 4, seed=7)


def test_random_backbone_features_do_not_depend_on_batch_mates():
    backbone = nets.random_backbone(1, 4, seed=0)
    x = torch.rand(5, 1, 28, 28)
    with torch.no_grad():
        alone, in_a_batch = backbone.embed(x[:1]), backbone.embed(torch.cat([x[:1], 10 * x[1:]]))[:1]
    assert torch.allclose(alone, in_a_batch, atol=1e-6)


def test_batchnorm_recalibration_sets_the_statistics_of_new_data_and_keeps_weights():
    torch.manual_seed(0)
    backbone = nets.Backbone(3, 4)
    weights = backbone.stages["conv1"][0].weight.clone()
    x = 5.0 + torch.rand(40, 3, 32, 32)  # far from the default statistics (mean 0, variance 1)
    nets.recalibrate_batchnorm(backbone, x, batch_size=10)
    with torch.no_grad():
        conv1 = backbone.stages["conv1"][0](x)
    bn = backbone.stages["conv1"][1]
    assert torch.allclose(bn.running_mean, conv1.mean(dim=(0, 2, 3)), atol=1e-3)
    assert torch.equal(backbone.stages["conv1"][0].weight, weights) and not backbone.training
    assert bn.momentum == 0.1  # restored


def test_a_recalibrated_copy_leaves_the_original_alone():
    torch.manual_seed(0)
    backbone = nets.random_backbone(3, 4, seed=0)
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    copy = nets.recalibrated(backbone, 5.0 + torch.rand(20, 3, 32, 32), batch_size=10)
    assert all(torch.equal(v, before[k]) for k, v in backbone.state_dict().items())
    assert not torch.equal(copy.stages["conv1"][1].running_mean, before["stages.conv1.1.running_mean"])
    assert not copy.training
