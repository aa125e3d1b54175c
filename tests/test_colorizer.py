import dataclasses

import pytest
import torch

from course_lib import checks, colorizer, config
from course_lib.pretext import colorization as col

TINY = dataclasses.replace(config.PROFILES["ci"], width=4, batch_size=8, color_steps=2, color_seconds=30)


@pytest.fixture(scope="module")
def photos():
    torch.manual_seed(0)
    return torch.rand(16, 3, 16, 16)


@pytest.fixture(scope="module")
def space(photos):
    return colorizer.ColourSpace.fit(photos)


def test_colour_space_weights_average_to_one_under_p_smooth(space):
    assert space.centres.shape == (space.q, 2) and space.weights.shape == (space.q,)
    assert torch.isclose((space.p_smooth * space.weights).sum(), torch.tensor(1.0), atol=1e-5)
    assert torch.isclose(space.p_smooth.sum(), torch.tensor(1.0), atol=1e-5)


@pytest.fixture(scope="module")
def trained(photos, space):
    return colorizer.train_all(photos, space, TINY, seed=3, progress=False)


def test_every_method_starts_from_the_same_weights_and_trains(trained, space):
    models, histories = trained
    start = colorizer.initial_backbone(TINY, 3)
    assert set(models) == set(colorizer.METHODS)
    assert models["l2 regression"].head[-1].out_channels == 2
    assert models["classification"].head[-1].out_channels == space.q
    assert all(len(h["loss"]) > 0 for h in histories.values())
    assert not torch.equal(models["classification"].backbone.stages["conv1"][0].weight,
                           start.stages["conv1"][0].weight)  # it trained, from ...
    torch.manual_seed(3)
    assert torch.equal(colorizer.initial_backbone(TINY, 3).stages["conv1"][0].weight,
                       start.stages["conv1"][0].weight)  # ... a start that the seed fixes


def test_colourfulness_table_and_metrics_name_every_row(photos, space, trained):
    models, _ = trained
    table = colorizer.colourfulness_table(models, photos[:4], space)
    assert table.loc["grey (the input)", "colourfulness M"] < 1.0 < table.loc["ground truth", "colourfulness M"]
    probes = colorizer.probe_table({"random init": colorizer.initial_backbone(TINY, 0),
                                    "colorization": models["classification + rebalancing"].backbone},
                                   (photos, torch.arange(16) % 2), (photos[:6], torch.arange(6) % 2),
                                   stages=("conv1", "conv3"))
    metrics = colorizer.metrics(table, probes)
    for name in ("colourfulness_l2", "colourfulness_rebalanced", "probe_colorization", "probe_random",
                 "probe_colorization_conv3", "colourfulness_rebalanced_t0_38"):
        assert name in metrics
    assert metrics["probe_random"] == max(metrics["probe_random_conv1"], metrics["probe_random_conv3"])


def test_colorize_any_keeps_the_photo_size(space):
    model = col.Colorizer(colorizer.initial_backbone(TINY, 0), space.q)
    assert colorizer.colorize_any(model, space, torch.rand(1, 3, 48, 48)).shape == (1, 3, 48, 48)


def test_annealed_mean_checker_accepts_the_answer_and_explains_a_wrong_one():
    colorizer.check_annealed_mean(col.annealed_mean)
    with pytest.raises(checks.NotYet, match="softmax"):
        colorizer.check_annealed_mean(lambda logits, centres, t: col.annealed_mean(logits, centres, 1.0))
    with pytest.raises(checks.NotYet, match="shape"):
        colorizer.check_annealed_mean(lambda logits, centres, t: logits)


def test_image_rows_draws_one_named_row_per_entry():
    from course_lib import show

    fig = show.image_rows({"colour": torch.rand(3, 3, 8, 8), "grey": torch.rand(3, 1, 8, 8)})
    assert len(fig.axes) == 6 and fig.axes[3].get_ylabel() == "grey"
