"""Tests of course_lib.lessons.learning_paradigms.reinforcement (and the notebook's sizes, which are all RL's, and
its orderings)."""

import numpy as np
import pytest

from course_lib import checks, config, results
from course_lib.lessons import learning_paradigms
from course_lib.lessons.learning_paradigms import reinforcement as lesson


def test_sizes_cover_every_profile_and_grow_from_ci_to_full():
    sizes = learning_paradigms.SIZES
    assert set(sizes) == set(config.PROFILE_NAMES)
    for field in ("bandit_runs", "bandit_steps", "cliff_episodes"):
        assert getattr(sizes["ci"], field) <= getattr(sizes["lab"], field) <= getattr(sizes["full"], field), field


def test_orderings_read_only_numbers_the_notebook_records():
    recorded = set(results.load("lab", config.REPO_ROOT / "results")[learning_paradigms.NOTEBOOK]["metrics"])
    for ordering in learning_paradigms.ORDERINGS:
        others = (ordering.than,) if isinstance(ordering.than, str) else ordering.than
        assert {ordering.better, *others} <= recorded, ordering.statement


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ci_sizes_are_enough_for_the_notebooks_claims(seed):
    sizes = learning_paradigms.SIZES["ci"]
    runs = lesson.compare_bandit_agents(n_runs=sizes.bandit_runs, n_steps=sizes.bandit_steps, seed=seed)
    learned, greedy, random = (runs[k].mean_reward() for k in ("epsilon = 0.1", "epsilon = 0", "random"))
    assert learned > random + 0.5 and learned > greedy
    env = lesson.CliffWalk()
    assert lesson.greedy_path(env, lesson.q_learning(env, episodes=sizes.cliff_episodes, seed=seed).Q)[1] == -13


def test_greedy_breaks_ties_among_the_best_only():
    rng = np.random.default_rng(0)
    picks = {int(lesson.greedy_action(np.array([1.0, 3.0, 3.0, 0.0]), rng)) for _ in range(50)}
    assert picks == {1, 2}


def test_epsilon_zero_picks_the_argmax_of_each_row():
    estimates = np.random.default_rng(1).normal(size=(100, 10))
    actions = lesson.epsilon_greedy(estimates, 0.0, np.random.default_rng(2))
    assert np.array_equal(actions, estimates.argmax(axis=1))


def test_update_estimate_is_the_running_mean():
    rewards, estimate = [4.0, -2.0, 1.0], 0.0
    for n, r in enumerate(rewards, start=1):
        estimate = lesson.update_estimate(estimate, n, r)
    assert estimate == pytest.approx(np.mean(rewards))


def test_bandit_run_shapes():
    run = lesson.run_bandit(0.1, n_runs=7, n_steps=30, seed=0)
    assert run.rewards.shape == run.optimal.shape == (7, 30) and run.optimal.dtype == bool


def test_learned_bandit_agent_beats_random_on_a_fixed_seed():
    runs = lesson.compare_bandit_agents(epsilons=(0.1,), n_runs=100, n_steps=300, seed=0)
    assert runs["epsilon = 0.1"].mean_reward() > runs["random"].mean_reward() + 0.5


def test_show_bandit_draws_a_curve_per_agent_and_the_best_arm():
    runs = lesson.compare_bandit_agents(epsilons=(0.0, 0.1), n_runs=5, n_steps=40, seed=0)
    (ax,) = lesson.show_bandit(runs).axes
    assert len(ax.lines) == 4 and ax.get_title() == "10-armed bandit, mean of 5 runs"
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["epsilon = 0", "epsilon = 0.1", "random", "always the best arm"]


def test_cliff_steps_cost_one_and_the_cliff_sends_back_to_start():
    env = lesson.CliffWalk()
    assert env.step(env.start, 0) == (env.start - env.cols, -1.0, False)  # up
    assert env.step(env.start, 3) == (env.start, -100.0, False)  # right: into the cliff


def test_q_learning_finds_the_shortest_path():
    env = lesson.CliffWalk()
    agent = lesson.q_learning(env, episodes=300, seed=0)
    path, total = lesson.greedy_path(env, agent.Q)
    assert total == -13 and len(path) == 14 and path[-1] == env.goal


def test_random_agent_falls_off_the_cliff():
    assert lesson.random_returns(lesson.CliffWalk(), episodes=20, seed=0).mean() < -100


def test_show_returns_draws_the_learning_curve_and_its_references():
    env = lesson.CliffWalk()
    agent = lesson.q_learning(env, episodes=50, seed=0)
    (ax,) = lesson.show_returns(agent, lesson.random_returns(env, episodes=5), window=10).axes
    assert len(ax.lines) == 3 and ax.get_title() == "cliff walking"  # Q-learning, shortest path, random agent
    assert len(ax.lines[0].get_xdata()) == 50 - 10 + 1  # a moving average of 10 episodes


def test_show_policy_draws_an_arrow_in_every_cell_off_the_cliff_and_the_path():
    env = lesson.CliffWalk()
    agent = lesson.q_learning(env, episodes=300, seed=0)
    (ax,) = lesson.show_policy(env, agent.Q).axes
    cells = [t.get_text() for t in ax.texts if "cliff" not in t.get_text()]
    assert len(cells) == env.n_states - (env.cols - 2)  # every cell but the cliff's
    assert "S ↑" in cells and "G" in cells and ax.get_title() == "greedy policy after Q-learning"
    path = [p for p in ax.patches if p.get_facecolor()[:3] != (0.75, 0.75, 0.75)]
    assert len(path) == 14  # the greedy path, shaded orange: 13 moves from S to G


# --- the exercise checkers: an answer written here, and the mistakes students make -----------------------------


def _epsilon_greedy(estimates, epsilon, rng):
    """An answer written for this test: explore (a uniform action) with probability epsilon, else the best."""
    if rng.random() < epsilon:
        return int(rng.choice(len(estimates)))
    best = max(range(len(estimates)), key=lambda a: estimates[a])
    return best


def test_check_epsilon_greedy_accepts_an_answer_written_here(capsys):
    lesson.check_epsilon_greedy(_epsilon_greedy)
    assert "epsilon-greedy: correct" in capsys.readouterr().out


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(lambda q, epsilon, rng: int(np.argmax(q)), "epsilon = 1", id="never-explores"),
    pytest.param(lambda q, epsilon, rng: int(rng.integers(len(q))) if rng.random() < epsilon else np.max(q),
                 "np.argmax", id="the-best-value-not-its-index"),
    pytest.param(lambda q, epsilon, rng: int(rng.integers(len(q))) if rng.random() > epsilon else int(np.argmax(q)),
                 "explores when it should exploit.*probability 1 - epsilon.*the wrong way round",
                 id="explores-when-it-should-exploit"),
    pytest.param(lambda q, epsilon, rng: int(rng.integers(len(q))) if rng.random() < epsilon else int(np.argmin(q)),
                 "smallest estimate", id="exploits-the-smallest-estimate"),
    pytest.param(lambda q, epsilon, rng: (int(rng.choice(np.flatnonzero(q != q.max()))) if rng.random() < epsilon
                                          else int(np.argmax(q))), "equally likely", id="explores-the-others-only"),
    pytest.param(lambda q, epsilon, rng: int(rng.integers(len(q) - 1)) if rng.random() < epsilon else int(np.argmax(q)),
                 "over all actions", id="explores-all-but-the-last-action"),
    pytest.param(lambda q, epsilon, rng: int(np.random.randint(len(q))) if np.random.rand() < epsilon
                 else int(np.argmax(q)), "from the rng argument", id="global-stream-not-rng"),
])
def test_check_epsilon_greedy_rejects_a_typical_mistake(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint):
        lesson.check_epsilon_greedy(wrong)


def _update(estimate, count, reward):
    """An answer written for this test: undo the old average, add the reward, divide again."""
    return (estimate * (count - 1) + reward) / count


def test_check_update_accepts_an_answer_written_here(capsys):
    lesson.check_update(_update)
    assert "sample-average update: correct" in capsys.readouterr().out


AVERAGE = "plain average; count already includes"


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(lambda q, n, r: q + (r - q) / (n + 1), r"1/\(count \+ 1\).*" + AVERAGE, id="count-off-by-one"),
    pytest.param(lambda q, n, r: q + (r - q) / max(n - 1, 1), r"1/\(count - 1\)", id="count-one-too-few"),
    pytest.param(lambda q, n, r: (q + r) / 2, "plain average of the old estimate and the new reward",
                 id="halfway-to-the-reward"),
    pytest.param(lambda q, n, r: q + 0.1 * (r - q), "constant step size", id="constant-step-size"),
    pytest.param(lambda q, n, r: q + (r - q) // n, r"integer division \(//\)", id="integer-division"),
    pytest.param(lambda q, n, r: q + 1 // n * (r - q), "did not move at all", id="integer-division-of-the-step"),
    pytest.param(lambda q, n, r: r / n, "^[^:]*: not yet. Hint: After n rewards.*" + AVERAGE,
                 id="old-estimate-left-out"),
    pytest.param(lambda q, n, r: r if n == 1 else q + (r - q) / n, "raised ValueError: .*; use plain arithmetic",
                 id="python-if"),
    pytest.param(lambda q, n, r: q + (r - q) / int(n), "raised TypeError: .*; use plain arithmetic", id="int-of-count"),
])
def test_check_update_rejects_a_typical_mistake(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_update(wrong)
    assert "1/count" not in str(rejected.value) and "(reward - estimate)" not in str(rejected.value), rejected.value
