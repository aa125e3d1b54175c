"""Tests of course_lib.paradigms (notebook 00): one behaviour each, small and fast."""

import numpy as np
import pytest

from course_lib import checks, paradigms


@pytest.fixture(scope="module")
def digits():
    return paradigms.load_digits(seed=0)


@pytest.fixture(scope="module")
def kmeans(digits):
    return paradigms.cluster(digits, k=10, seed=0)


def test_digits_split_keeps_every_image_once_in_range(digits):
    assert len(digits.y_train) + len(digits.y_test) == 1797
    assert digits.X_train.shape[1] == 64 and digits.X_train.min() >= 0 and digits.X_train.max() <= 1


def test_classifier_is_far_above_chance(digits):
    assert paradigms.accuracy(paradigms.train_classifier(digits), digits) > 0.9


def test_dequantize_stays_in_the_grey_level_interval():
    pixels = np.array([[0, 5, 16]])
    x = paradigms.dequantize(pixels, np.random.default_rng(0))
    assert np.all((x >= pixels / 17) & (x < (pixels + 1) / 17))


def test_shuffle_pixels_permutes_each_row():
    X = np.arange(12.0).reshape(2, 6)
    shuffled = paradigms.shuffle_pixels(X, np.random.default_rng(0))
    assert np.array_equal(np.sort(shuffled, axis=1), X) and not np.array_equal(shuffled, X)


def test_density_samples_have_image_shape_and_range(digits):
    model = paradigms.fit_density(digits, n_components=2)
    samples = paradigms.sample_digits(model, 5, seed=0)
    assert samples.shape == (5, 8, 8) and samples.min() >= 0 and samples.max() <= 1


def test_density_prefers_real_digits_to_shuffled_ones(digits):
    scores = paradigms.density_scores(paradigms.fit_density(digits, n_components=2), digits)
    assert scores["heldout"] > 0 > scores["shuffled"]


def test_purity_beats_a_random_grouping(digits, kmeans):
    assert paradigms.purity(kmeans, digits) > paradigms.random_purity(kmeans, digits) + 0.3


def test_greedy_breaks_ties_among_the_best_only():
    rng = np.random.default_rng(0)
    picks = {int(paradigms.greedy_action(np.array([1.0, 3.0, 3.0, 0.0]), rng)) for _ in range(50)}
    assert picks == {1, 2}


def test_epsilon_zero_picks_the_argmax_of_each_row():
    estimates = np.random.default_rng(1).normal(size=(100, 10))
    actions = paradigms.epsilon_greedy(estimates, 0.0, np.random.default_rng(2))
    assert np.array_equal(actions, estimates.argmax(axis=1))


def test_update_estimate_is_the_running_mean():
    rewards, estimate = [4.0, -2.0, 1.0], 0.0
    for n, r in enumerate(rewards, start=1):
        estimate = paradigms.update_estimate(estimate, n, r)
    assert estimate == pytest.approx(np.mean(rewards))


def test_bandit_run_shapes():
    run = paradigms.run_bandit(0.1, n_runs=7, n_steps=30, seed=0)
    assert run.rewards.shape == run.optimal.shape == (7, 30) and run.optimal.dtype == bool


def test_learned_bandit_agent_beats_random_on_a_fixed_seed():
    runs = paradigms.compare_bandit_agents(epsilons=(0.1,), n_runs=100, n_steps=300, seed=0)
    assert runs["epsilon = 0.1"].mean_reward() > runs["random"].mean_reward() + 0.5


def test_cliff_steps_cost_one_and_the_cliff_sends_back_to_start():
    env = paradigms.CliffWalk()
    assert env.step(env.start, 0) == (env.start - env.cols, -1.0, False)  # up
    assert env.step(env.start, 3) == (env.start, -100.0, False)  # right: into the cliff


def test_q_learning_finds_the_shortest_path():
    env = paradigms.CliffWalk()
    agent = paradigms.q_learning(env, episodes=300, seed=0)
    assert paradigms.greedy_path(env, agent.Q)[1] == -13


def test_completion_beats_predicting_the_mean(digits):
    completion = paradigms.complete_bottom_half(digits)
    assert completion.predicted.shape == (len(digits.y_test), 32) and completion.error < completion.mean_error


def test_show_functions_return_closed_figures(digits):
    import matplotlib.pyplot as plt

    fig = paradigms.show_digits(digits, n=4)
    assert fig.axes and fig.number not in plt.get_fignums()


def test_check_cluster_names_accepts_the_reference_and_rejects_a_wrong_answer(digits, kmeans):
    paradigms.check_cluster_names(paradigms.name_clusters, kmeans, digits)
    with pytest.raises(checks.NotYet):
        paradigms.check_cluster_names(lambda c, X, y: np.arange(len(c)), kmeans, digits)


def test_check_epsilon_greedy_accepts_a_correct_agent_and_rejects_a_greedy_one():
    def correct(q, epsilon, rng):
        return int(rng.integers(len(q))) if rng.random() < epsilon else int(np.argmax(q))

    paradigms.check_epsilon_greedy(correct)
    with pytest.raises(checks.NotYet, match="epsilon = 1"):
        paradigms.check_epsilon_greedy(lambda q, epsilon, rng: int(np.argmax(q)))


def test_check_update_rejects_an_off_by_one_count():
    paradigms.check_update(paradigms.update_estimate)
    with pytest.raises(checks.NotYet, match="count already includes"):
        paradigms.check_update(lambda q, n, r: q + (r - q) / (n + 1))
