"""Tests of course_lib.lessons.learning_paradigms.digits: the notebook's data."""

import matplotlib.pyplot as plt
import numpy as np

from course_lib.lessons.learning_paradigms import digits as lesson


def test_digits_split_keeps_every_image_once_in_range(digits):
    assert len(digits.y_train) + len(digits.y_test) == 1797
    assert digits.X_train.shape[1] == 64 and np.array_equal(digits.X_train, digits.pixels_train / 16)
    assert digits.X_train.min() == 0 and digits.X_train.max() == 1  # grey level 16 (the darkest ink) is 1
    assert set(np.unique(digits.pixels_train)) <= set(range(lesson.LEVELS))
    assert "held out for testing" in str(digits)


def test_as_images_draws_ink_dark_on_white():
    images = lesson.as_images(np.array([[0.0] * 63 + [1.0]]))
    assert images.shape == (1, 1, 8, 8) and images[0, 0, 0, 0] == 1.0 and images[0, 0, 7, 7] == 0.0


def test_show_digits_draws_each_digit_titled_with_its_label(digits):
    fig = lesson.show_digits(digits, n=4)
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 4 and fig.number not in plt.get_fignums()
    assert [ax.get_title() for ax in drawn] == [f"y = {y}" for y in digits.y_train[:4]]
