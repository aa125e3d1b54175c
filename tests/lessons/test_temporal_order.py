import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from course_lib import checks, config, evaluate, nets, results, train
from course_lib.data import ImageData, make_moving_digits
from course_lib.data.clips import VideoClip
from course_lib.data.moving_digits import ACTIONS, SHORTCUT
from course_lib.lessons import temporal_order as lesson
from course_lib.pretext import temporal_order

TINY = dataclasses.replace(lesson.SIZES["ci"], backbone_width=4, tuple_batch=4, tuple_steps=2, pretrain_seconds=30,
                           digit_steps=2)


@pytest.fixture
def clips(rectangles):
    return make_moving_digits(rectangles(12, 28), torch.arange(12) % 3, n=24, frames=16, size=32)


@pytest.fixture
def short_clips(rectangles):
    """Two clips per action, four frames each: enough for the probes, which draw no tuples."""
    return make_moving_digits(rectangles(6, 28), torch.arange(6) % 3, n=12, frames=4, size=32)


@pytest.fixture
def easy_clips(rectangles):
    """(labelled, test): ten clean clips per action, eight frames each, of rectangles (noise-free: easy)."""
    torch.manual_seed(0)  # the rectangles

    def make(seed):
        return make_moving_digits(rectangles(60, 28), torch.arange(60) % 3, n=60, frames=8, size=32, noise=0.0,
                                  seed=seed)

    return make(1), make(2)


@pytest.fixture
def easy_validation(rectangles):
    """Validation clips made like ``easy_clips``, from other rectangles and another seed."""
    return make_moving_digits(rectangles(30, 28), torch.arange(30) % 3, n=30, frames=8, size=32, noise=0.0, seed=3)


def test_sizes_add_the_lessons_own_to_the_shared_ones():
    for name, sizes in lesson.SIZES.items():
        assert sizes.name == name and sizes.width == config.PROFILES[name].width
    assert lesson.SIZES["ci"].backbone_width == 8 and lesson.SIZES["full"].test_per_action == 300


def test_heads_turn_frame_codes_into_one_vector_per_clip():
    codes = torch.randn(5, 4, 3)
    assert lesson.frames_and_differences(codes).shape == (5, 4 * 3 + 3 * 3)
    assert lesson.frames_in_order(codes).shape == (5, 12)
    assert lesson.mean_of_frames(codes).shape == (5, 3)
    assert torch.equal(lesson.frames_and_differences(codes)[:, 12:15], (codes[:, 1] - codes[:, 0]).abs())
    assert lesson.PROTOCOL in lesson.HEADS


def test_clip_codes_are_one_code_per_frame(clips):
    backbone = lesson.initial_backbone(TINY, seed=0)
    codes = lesson.clip_codes(backbone, clips, batch_size=5)
    assert codes.shape == (24, 16, backbone.out_dim * 4)
    with torch.no_grad():  # the code the downstream heads read is the one the tuple head reads
        assert torch.allclose(codes, temporal_order.frame_codes(backbone.eval(), clips.videos), atol=1e-5)


def test_the_initial_backbone_is_the_same_for_the_same_seed():
    a, b = lesson.initial_backbone(TINY, 1), lesson.initial_backbone(TINY, 1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not a.training and a.stages.conv1[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_pretraining_starts_from_the_initial_backbone_and_changes_it(clips):
    start = lesson.initial_backbone(TINY, 0)
    tuned, net, history = lesson.pretrain_tuples(clips, TINY, seed=0, progress=False)
    assert net.backbone is tuned and len(history.step) >= 1
    assert not torch.equal(start.stages.conv1[0].weight, tuned.stages.conv1[0].weight)
    supervised, _ = lesson.pretrain_digits(clips, TINY, seed=0, progress=False)
    assert not torch.equal(start.stages.conv1[0].weight, supervised.stages.conv1[0].weight)


def test_the_other_motions_control_names_the_motion_of_whole_clips_read_as_the_protocol_reads_them(rectangles):
    others = make_moving_digits(rectangles(12, 28), torch.arange(12) % 3, n=12, frames=16, size=32,
                                motions=lesson.OTHER_MOTIONS)
    assert lesson.other_motion_labels(others).tolist() == [0, 1, 2] * 4
    start = lesson.initial_backbone(TINY, 0)
    assert lesson.ActionNet(start, 3)(others.videos[:2]).shape == (2, 3)
    trained, history = lesson.pretrain_other_motions(others, TINY, seed=0, progress=False)
    assert history.step[-1] == TINY.tuple_steps and "acc" in history.values  # tuple verification's steps
    assert not torch.equal(start.stages.conv1[0].weight, trained.stages.conv1[0].weight)


def test_action_table_has_a_row_per_backbone_and_a_column_per_head(short_clips):
    backbones = {"a": lesson.initial_backbone(TINY, 0), "b": lesson.initial_backbone(TINY, 1)}
    encoded = lesson.encode(backbones, short_clips, short_clips)
    table = lesson.action_table(lesson.action_scores(encoded, short_clips, short_clips, per_class=1, draws=2))
    assert list(table.index) == ["a", "b"] and list(table.columns) == list(lesson.HEADS)
    assert all(" ± " in cell for cell in table.to_numpy().flatten())  # mean ± std over the two draws


def test_action_scores_average_the_labelled_draws_and_keep_their_spread(short_clips):
    encoded = lesson.encode({"a": lesson.initial_backbone(TINY, 0)}, short_clips, short_clips)
    def score(draws, seed=0):
        scores = lesson.action_scores(encoded, short_clips, short_clips, 1, draws, seed, heads=(lesson.PROTOCOL,))
        return scores["a"][lesson.PROTOCOL]

    singles = [float(score(1, seed)) for seed in (0, 1000, 2000)]  # draw d uses seed + 1000 d
    mean = score(3)
    assert mean.draws == 3 and float(mean) == pytest.approx(np.mean(singles))
    assert mean.std == pytest.approx(np.std(singles))


def test_stage_codes_give_every_stage_at_most_the_size_of_the_conv5_code(short_clips):
    backbone = lesson.initial_backbone(TINY, 0)
    codes = lesson.stage_codes(backbone, short_clips, batch_size=5)
    code_size = backbone.out_dim * temporal_order.CODE_SIDE ** 2
    assert list(codes) == list(nets.STAGES)
    assert all(c.shape[:2] == (12, 4) and 0 < c.shape[2] <= code_size for c in codes.values())
    assert torch.allclose(codes[lesson.CODE_STAGE], lesson.clip_codes(backbone, short_clips), atol=1e-6)
    assert lesson.clip_codes(backbone, short_clips, stage="conv2").shape == codes["conv2"].shape


def test_layer_scores_grade_every_stage_on_validation_and_test(easy_clips, easy_validation):
    labelled, test = easy_clips
    backbone = lesson.initial_backbone(TINY, 0)
    per_set = [lesson.stage_codes(backbone, clips) for clips in (labelled, easy_validation, test)]
    codes = {stage: tuple(c[stage] for c in per_set) for stage in nets.STAGES}
    scores = lesson.layer_scores(codes, labelled, easy_validation, test, per_class=5, draws=2)
    assert list(scores.test) == list(nets.STAGES) and scores.val_labels == len(easy_validation)
    assert all(0 <= v <= 100 for v in scores.val.values()) and scores.test["conv1"].draws == 2
    assert set(scores.C) == set(nets.STAGES) and set(scores.C.values()) <= set(evaluate.PROBE_CS)  # C chosen too
    fixed = lesson.layer_scores(codes, labelled, easy_validation, test, per_class=5, draws=2, Cs=(1.0,))
    assert all(scores.val[s] >= fixed.val[s] for s in nets.STAGES)  # the grid holds C = 1: never worse on validation


def test_read_at_layers_keeps_each_rows_validation_choice_and_random_inits_better_read(short_clips, easy_clips,
                                                                                       easy_validation):
    labelled, test = easy_clips
    backbones = {"random": lesson.initial_backbone(TINY, 0), "other": lesson.initial_backbone(TINY, 1)}
    reads = lesson.read_at_layers(backbones, short_clips, labelled, easy_validation, test, per_class=5, draws=2,
                                  random_row="random")
    assert set(reads.layers) == {"random", "other"} and set(reads.layers.values()) <= set(nets.STAGES)
    assert list(reads.table[evaluate.BEST_LAYER]) == [reads.layers["random"], reads.layers["other"]]
    assert set(reads.table[evaluate.VAL_LABELS]) == {len(easy_validation)}
    read = evaluate.read_of(reads.table, "random")
    network = evaluate.random_reads(backbones["random"], short_clips.videos.flatten(0, 1))[read]
    assert read in (evaluate.AS_INITIALISED, evaluate.RECALIBRATED)
    for name, net in (("random", network), ("other", backbones["other"])):  # the codes of the read chosen
        chosen = reads.at_chosen_layers()[name]
        assert torch.allclose(chosen[1], lesson.clip_codes(net, test, stage=reads.layers[name]), atol=1e-5)
        scores = lesson.action_scores({name: chosen}, labelled, test, 5, 2, heads=(lesson.PROTOCOL,), C=reads.C)
        assert float(scores[name][lesson.PROTOCOL]) == pytest.approx(float(evaluate.best_of(reads.table, name)))
        assert reads.C[name] == reads.table.loc[name, evaluate.PROBE_C_COLUMN]  # the C the table shows
    assert torch.equal(reads.at("conv5")["other"][0], reads.codes["other"]["conv5"][0])


def test_the_clips_show_each_held_out_digit_once(rectangles):
    sizes = dataclasses.replace(lesson.SIZES["ci"], unlabelled_clips=4)
    n = lesson.held_out_digits(sizes)
    assert n == len(ACTIONS) * (2 * lesson.LABELS_PER_ACTION + sizes.test_per_action + lesson.VALIDATION_PER_ACTION)
    digits = ImageData(rectangles(n, 28), torch.arange(n), [])  # each digit's label is its index: which one it is
    _, labelled, validation, test = lesson.make_splits(ImageData(rectangles(4, 28), torch.arange(4), []), digits,
                                                       sizes)
    shown = [clips.digit.tolist() for clips in (labelled, validation, test)]
    assert sorted(sum(shown, [])) == list(range(n))  # every held-out digit in exactly one clip
    assert torch.bincount(validation.motion).unique().tolist() == [lesson.VALIDATION_PER_ACTION]
    with pytest.raises(ValueError, match="held_out_digits"):
        lesson.make_splits(digits, ImageData(digits.x[:-1], digits.y[:-1], []), sizes)


def test_frozen_random_features_with_the_protocols_head_tell_clean_motions_apart(easy_clips):
    labelled, test = easy_clips
    backbone = lesson.initial_backbone(lesson.SIZES["ci"], 0)
    scores = lesson.action_scores(lesson.encode({"random": backbone}, labelled, test), labelled, test, per_class=10,
                                  heads=(lesson.PROTOCOL,))
    assert scores["random"][lesson.PROTOCOL] > 35  # chance: 16.7 %; measured 62 %


def test_pose_classes_are_the_cell_of_the_centre(clips):
    assert lesson.pose_classes(clips).shape == (24 * 16,)
    places = {(-0.9, -0.9): 0, (0.0, -0.9): 1, (0.9, -0.9): 2, (0.0, 0.0): 4, (-0.9, 0.9): 6, (1.0, 1.0): 8}
    for i, (x, y) in enumerate(places):  # (x, y): left to right, top to bottom; the edge belongs to the last cell
        clips.centre[0, i] = torch.tensor([x, y])
    assert lesson.pose_classes(clips)[:len(places)].tolist() == list(places.values())  # reading order


def test_pose_and_identity_probe_table(short_clips):
    encoded = lesson.encode({"random": lesson.initial_backbone(TINY, 0)}, short_clips, short_clips)
    table = lesson.pose_and_identity(encoded, short_clips, short_clips)
    assert list(table.index) == ["random"] and list(table.columns) == ["pose (3 x 3 cell)", "digit identity"]


def test_pose_is_readable_from_frozen_random_features(easy_clips):
    labelled, test = easy_clips
    encoded = lesson.encode({"random": lesson.initial_backbone(lesson.SIZES["ci"], 0)}, labelled, test)
    assert lesson.pose_and_identity(encoded, labelled, test).loc["random", "pose (3 x 3 cell)"] > 35  # chance 11 %


def test_tuples_picture_shows_the_in_order_tuple_beside_both_shuffled_ones(clips):
    fig = lesson.show_tuples(clips.videos, n=2)
    assert len(fig.axes) == 18 and all(len(ax.images) == 1 for ax in fig.axes)  # 2 clips x 3 tuples x 3 frames
    labels = [ax.get_ylabel() for ax in fig.axes[0::3]]
    assert labels == [f"clip {i}: {kind}" for i in (1, 2)
                      for kind in ("IN ORDER\n(b, c, d)", "SHUFFLED\n(b, a, d)", "SHUFFLED\n(b, e, d)")]
    frames = [[int(ax.get_title().removeprefix("t=")) for ax in fig.axes[3 * row:3 * row + 3]] for row in range(6)]
    for positive, before, after in (frames[0:3], frames[3:6]):
        b, c, d = positive
        assert b < c < d and before[0] == after[0] == b and before[2] == after[2] == d  # the same end frames
        assert before[1] <= b - temporal_order.MIN_GAP and after[1] >= d + temporal_order.MIN_GAP  # a and e, tau_min
    again = lesson.show_tuples(clips.videos, n=2)
    assert [ax.get_title() for ax in fig.axes] == [ax.get_title() for ax in again.axes]  # seeded


def test_orderings_read_only_numbers_the_notebook_records():
    recorded = set(results.load("lab", config.REPO_ROOT / "results")[lesson.NOTEBOOK]["metrics"])
    statements = [ordering.statement for ordering in lesson.ORDERINGS]
    assert len(set(statements)) == len(statements)  # the rows of the seeds table
    for ordering in lesson.ORDERINGS:
        others = (ordering.than,) if isinstance(ordering.than, str) else ordering.than
        assert {ordering.better, *others} <= recorded, ordering.statement


def test_clips_picture_has_a_row_per_action(clips):
    fig = lesson.show_clips(clips, frames=3)
    assert len(fig.axes) == len(ACTIONS) * 3 and all(len(ax.images) == 1 for ax in fig.axes)
    assert [ax.get_title() for ax in fig.axes[0::3]] == list(ACTIONS)


def test_real_tuples_picture_shows_the_motion_curve_and_three_tuples():
    frames = torch.rand(50, 3, 12, 16)
    fig = lesson.show_real_tuples(VideoClip(frames, 25.0, "fake", "noise"), window=10, min_gap=2)
    curve, *tiles = fig.axes
    assert len(curve.lines) == 1 and len(curve.lines[0].get_xdata()) == 49  # one energy per step of 50 frames
    assert curve.get_title() == "fake: where does it move?" and len(curve.texts) == 5  # a ... e
    assert len(tiles) == 9 and all(len(ax.images) == 1 for ax in tiles)
    assert [ax.get_ylabel() for ax in tiles[0::3]] == ["IN ORDER (b, c, d)", "SHUFFLED (b, a, d)", "SHUFFLED (b, e, d)"]


# --- the exercise checkers: an answer written here, and the mistakes students make -----------------------------


def _draw(videos, per_clip, window, generator, min_gap, mistake=""):
    """An answer written for this test (b < c < d drawn first, then a before b and e after d, one random number at a
    time), or, given a ``mistake``, the sampler students write with it."""
    draws = {"seed-ignored": None, "own-generator": torch.Generator().manual_seed(3)}.get(mistake, generator)
    n, t = videos.shape[:2]
    gap = 1 if mistake == "tau-min-ignored" else min_gap
    gap = min_gap + 1 if mistake == "gap-more-than-tau-min" else gap
    if mistake == "uniform-windows":
        starts = torch.randint(0, t - window + 1, (n, per_clip), generator=draws)
    elif mistake == "motion-along-the-height":
        steps = (videos[:, :, :, 1:] - videos[:, :, :, :-1]).abs().mean(dim=(2, 3, 4))
        starts = torch.multinomial(steps.unfold(1, window - 1, 1).sum(-1) + 1e-8, per_clip, True, generator=draws)
    else:
        steps = (videos[:, 1:] - videos[:, :-1]).abs().mean(dim=(2, 3, 4))
        weights = steps.unfold(1, window - 1, 1).sum(-1)
        if mistake == "the-busiest-window":
            starts = weights.argmax(1, keepdim=True).expand(n, per_clip)
        else:
            weights = (weights > 0).float() if mistake == "any-moving-window-alike" else weights
            starts = torch.multinomial(weights + 1e-8, per_clip, True, generator=draws)

    def uniform(low, high):  # a whole number from low ... high (tensors), both included
        return low + (torch.rand(low.shape, generator=draws) * (high - low + 1)).long()

    last = starts + window - 1
    b = uniform(starts + gap, last - gap - 2)
    c = uniform(b + 1, last - gap - 1)
    d = uniform(c + 1, last - gap)
    a, e = uniform(starts, b - gap), uniform(d + gap, last)
    if mistake == "five-frames-at-fixed-places":
        a, b, c, d, e = starts, starts + gap, starts + gap + 1, starts + gap + 2, starts + 2 * gap + 2
    positive = torch.rand(n, per_clip, generator=draws) < (0.5 if mistake == "half-positives" else 0.25)
    outside = a if mistake == "only-b-a-d" else torch.where(torch.rand(n, per_clip, generator=draws) < 0.5, a, e)
    if mistake == "negatives-in-order":
        outside, b = c, a  # the negative (a, c, d): in order
    if mistake == "positives-without-room":  # the positive (a, c, e): its ends leave no room for outside frames
        b, d = torch.where(positive, a, b), torch.where(positive, e, d)
    tuples = torch.stack([b, torch.where(positive, c, outside), d], dim=0 if mistake == "stacked-along-dim-0" else -1)
    backwards = torch.rand(n, per_clip, generator=draws) < 0.5
    if mistake == "one-reversal-per-clip":
        backwards = backwards[:, :1].expand(n, per_clip)
    if mistake == "one-reversal-per-call":
        backwards = backwards[:1, :1].expand(n, per_clip)
    if mistake != "never-reversed":
        tuples = torch.where(backwards[..., None], tuples.flip(-1), tuples) if tuples.shape[-1] == 3 else tuples
    if mistake == "reversed-positives-labelled-0":
        positive = positive & ~backwards
    return tuples, (1 - positive.long()) if mistake == "labels-swapped" else positive.long()


def _draw_in_a_loop(videos, per_clip, window, generator, min_gap):
    """Another right answer: one tuple at a time, the window's motion summed by hand, five frames by rejection, the
    labels as a list turned into a tensor, float weights for the window starts."""
    n, t = videos.shape[:2]
    tuples, labels = [], []
    for clip in videos:
        energy = [float((clip[s + 1] - clip[s]).abs().mean()) for s in range(t - 1)]
        weights = torch.tensor([sum(energy[s:s + window - 1]) for s in range(t - window + 1)], dtype=torch.float64)
        row, row_labels = [], []
        for _ in range(per_clip):
            start = int(torch.multinomial(weights + 1e-9, 1, generator=generator))
            while True:
                a, b, c, d, e = sorted((start + torch.randperm(window, generator=generator)[:5]).tolist())
                if b - a >= min_gap and e - d >= min_gap:
                    break
            kind = int(torch.randint(0, 8, (1,), generator=generator))  # 0, 1: positive; 2 ... 4: a; 5 ... 7: e
            middle = c if kind < 2 else a if kind < 5 else e
            forwards = [b, middle, d]
            row.append(forwards if int(torch.randint(0, 2, (1,), generator=generator)) else forwards[::-1])
            row_labels.append(int(kind < 2))
        tuples.append(row)
        labels.append(row_labels)
    return torch.tensor(tuples), torch.tensor(labels)


@pytest.mark.parametrize("right", [temporal_order.draw_tuples, _draw, _draw_in_a_loop],
                         ids=["the-library", "written-here", "loop"])
def test_check_draw_tuples_accepts_right_answers_and_leaves_the_random_stream_alone(right, capsys):
    state = torch.get_rng_state()
    lesson.check_draw_tuples(right)
    assert "tuple sampler: correct" in capsys.readouterr().out
    assert torch.equal(state, torch.get_rng_state())


@pytest.mark.parametrize(("mistake", "named"), [
    ("seed-ignored", "same generator seed gave different tuples"),
    ("own-generator", "different generator seeds gave the same tuples"),
    ("tau-min-ignored", "tau_min is not kept"),
    ("negatives-in-order", r"labelled 0 \(shuffled\) are in order"),
    ("labels-swapped", r"labelled 1 \(in order\) are not in order"),
    ("stacked-along-dim-0", r"returned shape \(3, 48, 8\).*last axis"),
    ("motion-along-the-height", "outside the clip.*time axis"),
    ("uniform-windows", "windows in which nothing moves"),
    ("positives-without-room", "do not fit in one window"),
    ("never-reversed", "every tuple runs the same way"),
    ("only-b-a-d", "make both negatives"),
    ("half-positives", "about one in four"),
    ("the-busiest-window", "busier window about 100% of the time.*you always take the window with the most motion"),
    ("any-moving-window-alike", "busier window about 5.% of the time.*equally often, whatever their motion"),
    ("five-frames-at-fixed-places", "five frames sit at the same places in every window"),
    ("gap-more-than-tau-min", "no negative has its outside frame exactly min_gap frames"),
    ("reversed-positives-labelled-0", r"labelled 0 \(shuffled\) are reversed positives, such as \(d, c, b\)"),
    ("one-reversal-per-clip", "all the tuples of a clip run the same way"),
    ("one-reversal-per-call", "all the tuples of one call run the same way"),
])
def test_check_draw_tuples_names_the_usual_mistake(mistake, named):
    with pytest.raises(checks.NotYet, match=named) as raised:
        lesson.check_draw_tuples(lambda v, p, w, g, m: _draw(v, p, w, g, m, mistake))
    assert "argsort" not in str(raised.value) and "multinomial" not in str(raised.value)  # no recipe


@pytest.mark.parametrize("cast", [lambda t, y: (t.float(), y), lambda t, y: (t, y.int())], ids=["float", "int32"])
def test_check_draw_tuples_wants_whole_numbers_and_long_labels(cast):
    with pytest.raises(checks.NotYet, match="torch.long for the cross-entropy"):
        lesson.check_draw_tuples(lambda v, p, w, g, m: cast(*temporal_order.draw_tuples(v, p, w, g, m)))


def test_check_draw_tuples_names_what_a_broken_sampler_raised():
    with pytest.raises(checks.NotYet, match="your function raised .*per_clip=8, window=12, min_gap=3"):
        lesson.check_draw_tuples(lambda v, p, w, g, m: temporal_order.draw_tuples(v, p, 99, g, m))


def test_strength_clips_move_at_their_first_and_last_step_only_one_three_times_the_other():
    videos, late = lesson.strength_clips(4, 6)
    energy = temporal_order.motion_energy(videos)
    assert videos.shape == (4, 7, 2, 3, 5) and late.tolist() == [False, True, False, True]
    assert torch.allclose(energy, torch.tensor([[3.0, 0, 0, 0, 0, 1], [1, 0, 0, 0, 0, 3]]).repeat(2, 1))


def test_probe_clips_move_at_one_step_only():
    videos, moves = lesson.probe_clips(6, 10)
    energy = temporal_order.motion_energy(videos)
    assert videos.shape == (6, 10, 2, 3, 5) and moves.tolist() == [0, 8, 4, 0, 8, 4]
    assert torch.equal(energy > 0, torch.nn.functional.one_hot(moves, 9).bool())


def test_your_sampler_draws_the_tuples_of_the_short_run(clips, monkeypatch):
    monkeypatch.setitem(lesson.YOUR_RUN_STEPS, "ci", 2)
    calls = []

    def spy(videos, per_clip, window, generator, min_gap):
        calls.append((len(videos), per_clip, window, generator, min_gap))
        return temporal_order.draw_tuples(videos, per_clip, window, generator, min_gap)

    state = torch.get_rng_state()
    run = lesson.train_with_your_sampler(spy, clips.videos, clips.videos[:6], TINY)
    assert torch.equal(state, torch.get_rng_state())  # its own streams: the notebook's is left as it was
    training, held_out = calls[:2], calls[2:]
    assert [call[:2] for call in training] == [(lesson.YOUR_RUN_CLIPS, lesson.YOUR_RUN_TUPLES)] * 2
    assert held_out and all(call[:2] == (6, 1) for call in held_out)  # then one tuple per held-out clip, repeated
    assert all(isinstance(call[3], torch.Generator) and call[4] == temporal_order.MIN_GAP for call in calls)
    assert run.steps == 2 and 0 <= run.held_out <= 100 and "acc" in run.history.values


def test_your_run_is_shown_against_chance(capsys):
    history = train.History()
    for step, acc in ((10, 0.7), (20, 0.8)):
        history.log(step, 0.1, {"acc": acc})
    assert lesson.show_your_run(lesson.YourRun(history, 71.25, 20)) is not None
    assert "after 20 steps: order verification 71.2 % on held-out clips (balanced accuracy, chance 50 %)" in \
        capsys.readouterr().out


def test_your_run_is_shorter_than_the_notebooks_pretraining():
    assert set(lesson.YOUR_RUN_STEPS) == set(lesson.SIZES)
    assert all(lesson.YOUR_RUN_STEPS[name] * lesson.YOUR_RUN_CLIPS <= sizes.tuple_steps * sizes.tuple_batch
               for name, sizes in lesson.SIZES.items())


def _motion_energy(videos):
    """An answer written for this test: one step of one clip at a time."""
    n, t = videos.shape[:2]
    return torch.tensor([[float((videos[i, s + 1] - videos[i, s]).abs().mean()) for s in range(t - 1)]
                         for i in range(n)])


@pytest.mark.parametrize("right", [
    pytest.param(temporal_order.motion_energy, id="the-library"),
    pytest.param(_motion_energy, id="written-here"),
    pytest.param(lambda v: v.diff(dim=1).abs().mean(dim=(-3, -2, -1)), id="diff"),
    pytest.param(lambda v: (v[:, :-1] - v[:, 1:]).abs().flatten(2).mean(-1).double(), id="backwards-in-double"),
])
def test_check_motion_energy_accepts_the_reference_and_answers_written_here(right, capsys):
    lesson.check_motion_energy(right)
    assert "motion energy: correct" in capsys.readouterr().out


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(lambda v: (v[:, 1:] - v[:, :-1]).mean(dim=(2, 3, 4)), "cancel", id="signed-differences-cancel"),
    pytest.param(lambda v: (v[:, 1:] - v[:, :-1]).abs().sum(dim=(2, 3, 4)), "summed", id="summed-not-averaged"),
    pytest.param(lambda v: (v[:, 1:] - v[:, :1]).abs().mean(dim=(2, 3, 4)), "compared with the first frame",
                 id="against-the-first-frame"),
    pytest.param(lambda v: (v[:, 1:] - v[:, :-1]).pow(2).mean(dim=(2, 3, 4)), "squared", id="squared-not-absolute"),
    pytest.param(lambda v: (v[:, 1:] - v[:, :-1]).abs().mean(dim=(1, 2, 3, 4)), r"returned shape \(3,\).*wrong axes",
                 id="averaged-over-time-too"),
    pytest.param(lambda v: (v[:, :, 1:] - v[:, :, :-1]).abs().mean(dim=(2, 3, 4)), r"returned shape \(3, 6\)",
                 id="differences-along-the-channels"),
    pytest.param(lambda v: (v[1:] - v[:-1]).abs().mean(dim=(2, 3, 4)), r"returned shape \(2, 6\)",
                 id="differences-between-clips"),
    pytest.param(lambda v: (v[:, 1:] - v[:, :-1]).abs().mean(dim=(2, 3, 4, 5)), "raised IndexError.*wrong one",
                 id="an-axis-that-is-not-there"),
    pytest.param(lambda v: (v[:, 1:] - v[:, :-1]).abs().mean(dim=(0, 2, 3)), r"returned shape \(5, 7\)",
                 id="averaged-over-the-clips"),
])
def test_check_motion_energy_rejects_a_typical_mistake_without_giving_the_answer(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_motion_energy(wrong)
    assert not any(code in str(rejected.value) for code in ("x[:, 1:]", ".abs()", "expected [")), rejected.value


def test_every_action_has_a_name_of_its_own_that_its_clips_carry(clips):
    assert len(set(ACTIONS)) == len(ACTIONS) and SHORTCUT not in ACTIONS
    assert [clips.names[m] for m in clips.motion[:len(ACTIONS)]] == list(ACTIONS)  # the clips cycle through them


def test_shortcut_table_has_tuple_accuracy_per_clip_set_and_action_accuracy(clips):
    _, net, _ = lesson.pretrain_tuples(clips, TINY, seed=0, progress=False)
    table = lesson.shortcut_table({"net": net}, {"these": clips}, clips, clips, per_class=1, draws=2)
    assert list(table.columns) == ["tuple accuracy: these", "action accuracy", "± (draws)"]
    assert list(table.index) == ["net"]


def test_three_in_four_training_tuples_are_negatives(clips):
    assert lesson.majority_share(clips.videos, per_clip=200) == pytest.approx(75, abs=2)


def test_training_accuracy_picture_draws_the_majority_level():
    history = train.History()
    for step, acc in ((10, 0.6), (20, 0.8)):
        history.log(step, 0.0, {"acc": acc})
    ax = lesson.show_training_accuracy(history, 75.0).axes[0]
    curve, majority = ax.lines
    assert list(curve.get_ydata()) == pytest.approx([60, 80]) and list(majority.get_ydata()) == [75, 75]
    assert "75 %" in majority.get_label()


def _spread(mean, std):
    return evaluate.Spread(mean, std, 3)


def test_lab_claim_needs_five_points_beyond_the_spread():
    lesson.check_claims({lesson.TUPLES: _spread(70, 1), lesson.RANDOM: _spread(60, 1)}, 70, "lab")
    with pytest.raises(checks.ClaimFailed, match="5 points"):
        lesson.check_claims({lesson.TUPLES: _spread(64, 1), lesson.RANDOM: _spread(60, 1)}, 70, "lab")
    with pytest.raises(checks.ClaimFailed):  # a 6-point gap inside a spread of 4 + 4 is no difference
        lesson.check_claims({lesson.TUPLES: _spread(66, 4), lesson.RANDOM: _spread(60, 4)}, 70, "lab")


def test_ci_claim_is_the_pretext_above_chance_and_can_fail(capsys):
    accuracy = {lesson.TUPLES: _spread(50, 1), lesson.RANDOM: _spread(60, 1)}  # no transfer at all: not asserted
    lesson.check_claims(accuracy, 58, "ci", capped=["tuple verification"])
    assert "stopped at the time cap: tuple verification" in capsys.readouterr().out
    with pytest.raises(checks.ClaimFailed, match="chance"):
        lesson.check_claims(accuracy, 53, "ci")


def test_shortcut_comparison_names_a_winner_only_outside_the_spread():
    table = pd.DataFrame({"action accuracy": [78.0, 75.2], evaluate.STD: [2.1, 1.4]}, index=["six", "glide"])
    assert lesson.shortcut_comparison(table).endswith("no difference at this scale (the gap is inside the spread)")
    table.loc["glide", "action accuracy"] = 60.0
    assert lesson.shortcut_comparison(table).endswith(": six higher")


def test_every_training_run_of_the_notebook_has_its_own_name(clips, rectangles, run_names):
    glide = make_moving_digits(rectangles(12, 28), torch.arange(12) % 3, n=24, frames=16, size=32,
                               motions=(SHORTCUT,))
    lesson.pretrain_tuples(clips, TINY, progress=False)
    lesson.pretrain_digits(clips, TINY, progress=False)
    lesson.pretrain_tuples(glide, TINY, progress=False)  # the shortcut: the same call on gliding clips
    others = make_moving_digits(rectangles(12, 28), torch.arange(12) % 3, n=6, frames=16, size=32,
                                motions=lesson.OTHER_MOTIONS)
    lesson.pretrain_other_motions(others, TINY, progress=False)
    assert run_names == ["tuple-verification", "digit-labels", "tuple-verification-constant-velocity",
                         "other-motion-labels"]
