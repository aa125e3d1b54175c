"""Tests of course_lib.lessons.learning_paradigms.unsupervised: clusters and a density model of the digits."""

import numpy as np
import pytest

from course_lib import checks
from course_lib.lessons.learning_paradigms import unsupervised as lesson


@pytest.fixture(scope="module")
def kmeans(digits):
    return lesson.cluster(digits, k=10, seed=0)


@pytest.fixture(scope="module")
def density(digits):
    return lesson.fit_density(digits, n_components=2)


def test_dequantize_stays_in_the_grey_level_interval():
    pixels = np.array([[0, 5, 16]])
    x = lesson.dequantize(pixels, np.random.default_rng(0))
    assert np.all((x >= pixels / 17) & (x < (pixels + 1) / 17))


def test_shuffle_pixels_permutes_each_row():
    X = np.arange(12.0).reshape(2, 6)
    shuffled = lesson.shuffle_pixels(X, np.random.default_rng(0))
    assert np.array_equal(np.sort(shuffled, axis=1), X) and not np.array_equal(shuffled, X)


def test_density_samples_are_images_like_the_digits_drawn_from_the_seed(digits, density):
    samples = lesson.sample_digits(density, 200, seed=0)
    assert samples.shape == (200, 8, 8)
    mean_error = np.abs(samples.reshape(200, 64).mean(0) - digits.X_train.mean(0)).max()
    assert mean_error < 0.15  # their mean is the mean digit (uniform noise would be 0.5 off)
    five = lesson.sample_digits(density, 5, seed=0)
    assert np.array_equal(lesson.sample_digits(density, 5, seed=0), five)
    assert not np.array_equal(lesson.sample_digits(density, 5, seed=1), five)


def test_density_prefers_real_digits_to_shuffled_ones(digits, density):
    scores = lesson.density_scores(density, digits)
    assert scores["heldout"] > 0 > scores["shuffled"]


def test_purity_beats_a_random_grouping(digits, kmeans):
    assert lesson.purity(kmeans, digits) > lesson.random_purity(kmeans, digits) + 0.3


def test_purity_is_graded_on_the_held_out_digits(digits):
    """One cluster for everything: purity is the share of the commonest test label, whatever the training set."""
    one = lesson.cluster(digits, k=1)
    assert lesson.purity(one, digits) == pytest.approx(np.bincount(digits.y_test).max() / len(digits.y_test))


def test_selection_picks_the_best_validation_score():
    assert lesson.Selection([1, 2, 5], train=[0.1, 0.5, 0.9], validation=[0.1, 0.4, 0.2]).best == 2


def test_show_centres_draws_every_centre_named_by_its_members(digits, kmeans):
    fig = lesson.show_centres(kmeans, digits)
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 10 and all(ax.get_title().startswith("mostly ") for ax in drawn)
    assert {ax.get_title()[-1] for ax in drawn} >= {"0", "1", "6"}  # the easy digits get a cluster each
    assert fig.get_suptitle().startswith("k-means centres")


def test_show_selection_draws_both_curves_and_marks_the_best():
    selection = lesson.Selection([1, 2, 5], train=[0.1, 0.5, 0.9], validation=[0.1, 0.4, 0.2])
    (ax,) = lesson.show_selection(selection).axes
    assert len(ax.lines) == 3 and ax.get_xscale() == "log"  # training, validation, and the line at the best
    assert ax.get_title() == "best on validation: 2" and list(ax.lines[2].get_xdata()) == [2, 2]


def test_show_density_draws_three_rows_of_scored_digits(digits, density):
    fig = lesson.show_density(density, digits, n=3)
    assert len(fig.axes) == 9 and all(len(ax.images) == 1 for ax in fig.axes)
    assert [fig.axes[3 * r].get_ylabel() for r in range(3)] == ["held-out", "shuffled", "sampled"]
    scores = [[float(ax.get_title()) for ax in fig.axes[3 * r: 3 * r + 3]] for r in range(3)]  # log p(x) per pixel
    assert min(scores[0]) > 0 > max(scores[1])  # held-out digits above the uniform density, shuffled ones below


def _cluster_names(centres, X, y):
    """An answer written for this test: one centre at a time, its nearest training digit by Euclidean distance."""
    return np.array([y[np.linalg.norm(X - centre, axis=1).argmin()] for centre in centres])


def test_check_cluster_names_accepts_an_answer_written_here(capsys):
    lesson.check_cluster_names(_cluster_names)
    assert "cluster names: correct" in capsys.readouterr().out


def _distances(c, X):
    return ((c[:, None, :] - X[None, :, :]) ** 2).sum(-1)


def _majority_of_the_cluster(c, X, y):
    members = _distances(c, X).argmin(axis=0)
    return np.array([np.bincount(y[members == k], minlength=10).argmax() for k in range(len(c))])


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(lambda c, X, y: y[_distances(c, X).argmin(axis=0)], "one label per centre.*one per training digit",
                 id="argmin-over-centres"),
    pytest.param(lambda c, X, y: y[_distances(c, X).argmax(axis=1)], "farthest from it, not the nearest",
                 id="farthest-digit"),
    pytest.param(lambda c, X, y: _distances(c, X).argmin(axis=1), "positions .* not their labels",
                 id="index-not-label"),
    pytest.param(_majority_of_the_cluster, "most common label of the digits in its cluster", id="majority-label"),
    pytest.param(lambda c, X, y: np.arange(len(c)), "labels differ", id="cluster-number-as-label"),
    pytest.param(lambda c, X, y: y[:3], "one label per centre", id="too-few-labels"),
    pytest.param(lambda c, X, y: y[np.zeros((2, 2), int)[len(c)]], "your function raised IndexError",
                 id="an-index-error"),
])
def test_check_cluster_names_rejects_a_typical_mistake(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_cluster_names(wrong)
    assert not any(code in str(rejected.value) for code in ("argmin", "[:, None", "None, :", "return y")), \
        rejected.value  # the mistake is named, the recipe is not given


def test_ten_named_clusters_classify_well_above_chance(digits, kmeans):
    names = lesson.name_clusters(kmeans.cluster_centers_, digits.X_train, digits.y_train)
    assert lesson.cluster_accuracy(kmeans, names, digits) > 0.5


def test_ten_label_accuracies_are_spreads_over_the_draws_of_both_ways(digits):
    accuracies = lesson.ten_label_accuracies(lesson.name_clusters, digits, draws=2, seed=0)
    assert list(accuracies) == ["one per k-means cluster", "one random per digit"]
    assert all(a.draws == 2 and 10 < a < 100 for a in accuracies.values())
    assert accuracies["one per k-means cluster"] > accuracies["one random per digit"]  # clusters pick typical digits


def test_ten_label_accuracies_use_the_students_names(digits):
    """A naming that calls every cluster "0" is right only on the zeros: about 10 %."""
    wrong = lesson.ten_label_accuracies(lambda centres, X, y: np.zeros(len(centres), int), digits, draws=1)
    assert float(wrong["one per k-means cluster"]) == pytest.approx(100 * np.mean(digits.y_test == 0))
