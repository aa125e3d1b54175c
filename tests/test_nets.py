import pytest
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
