"""Tests of course_lib.lessons.learning_paradigms.supervised: the classifier and the bridge (predict half of x)."""

import pytest

from course_lib.lessons.learning_paradigms import supervised as lesson


@pytest.fixture(scope="module")
def classifier(digits):
    return lesson.train_classifier(digits)


def test_classifier_is_far_above_chance(digits, classifier):
    assert lesson.accuracy(classifier, digits) > 0.9


def test_show_predictions_draws_a_row_right_then_the_mistakes_in_red(digits, classifier):
    fig = lesson.show_predictions(classifier, digits, n_right=3, n_wrong=2)
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 5
    assert all(ax.get_title().startswith("f(x) = ") and ax.title.get_color() == "black" for ax in drawn[:3])
    assert all(", is " in ax.get_title() and ax.title.get_color() == "red" for ax in drawn[3:])


def test_completion_beats_predicting_the_mean(digits):
    completion = lesson.complete_bottom_half(digits)
    assert completion.predicted.shape == (len(digits.y_test), 32)
    assert completion.error < 0.75 * completion.mean_error  # the notebook's claim


def test_show_completion_draws_digits_over_their_completions(digits):
    fig = lesson.show_completion(lesson.complete_bottom_half(digits), digits, n=3)
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 6
    assert [len(ax.lines) for ax in drawn] == [0, 0, 0, 1, 1, 1]  # the red line marks where the prediction starts
    assert "predicted" in fig.get_suptitle()


def test_few_label_accuracy_uses_that_many_labels_and_depends_on_which(digits):
    one, other = lesson.few_label_accuracy(digits, 1, seed=0), lesson.few_label_accuracy(digits, 1, seed=1)
    assert 20 < one < 90 and one != other  # ten labels: well above chance (10 %), and which ten matters
    assert lesson.few_label_accuracy(digits, 30, seed=0) > one  # more labels, better
