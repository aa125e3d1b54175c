import dataclasses
import inspect
import json
import math

import matplotlib
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import checks, config, evaluate
from course_lib.data._image import ImageData
from course_lib.data.fsdd import SpokenDigits
from course_lib.lessons import multimodal_embeddings as lesson
from course_lib.lessons import sound_supervision as ss
from course_lib.lessons.multimodal_embeddings import infonce_budget

matplotlib.use("Agg")

TINY = dataclasses.replace(lesson.SIZES["ci"], images=200, gallery=60, tower_width=2, pairs_per_step=16, steps=3,
                           seconds=30, validation=40, scenes=60, test_scenes=40, text_steps=3, teacher_steps=3,
                           sound_steps=3, draws=2, probe_cs=config.PROBE_CS)  # the grid lab chooses from
SPEAKERS = ("theo", "jackson", "lucas", "george", "nicolas")  # 10 per digit beside the validation and test voices


def _spoken() -> SpokenDigits:
    generator = torch.Generator().manual_seed(0)
    digits = torch.arange(200) % 10
    speakers = [SPEAKERS[i // 40] for i in range(200)]
    waves = [(1 + int(d)) * 0.05 * torch.randn(1200 + 10 * i, generator=generator) for i, d in enumerate(digits)]
    return SpokenDigits(waves, digits, speakers, torch.arange(200) % 7)


def _mnist(train: bool = True, n: int | None = None) -> ImageData:
    y = torch.arange(n) % 10
    return ImageData(y.float().view(-1, 1, 1, 1).expand(-1, 1, 28, 28) / 9, y, [str(i) for i in range(10)])


@pytest.fixture
def d(monkeypatch):
    monkeypatch.setattr(ss.videos, "load_fsdd", lambda split="all": _spoken())  # where ss.load looks it up
    monkeypatch.setattr(ss.data, "load_mnist", _mnist)
    return lesson.load(TINY)


def test_sizes_give_every_profile_the_shared_fields_and_grow():
    assert set(lesson.SIZES) == set(config.PROFILE_NAMES)
    for name in ("steps", "text_steps", "sound_steps", "images", "scenes"):
        assert getattr(lesson.SIZES["ci"], name) <= getattr(lesson.SIZES["lab"], name) \
            <= getattr(lesson.SIZES["full"], name)


def test_the_whole_notebook_runs_on_tiny_data_and_records_every_metric_of_the_issue(d, run_names, monkeypatch):
    monkeypatch.setitem(ss.SIZES, TINY.name, dataclasses.replace(ss.SIZES[TINY.name], steps=3))  # 08's budget
    infonce, h1 = lesson.train_infonce(d, TINY, progress=False)
    models, histories = {lesson.INFONCE: infonce}, {lesson.INFONCE: h1}
    for fusion in (lesson.AVE, lesson.CONCAT):
        models[fusion], histories[fusion] = lesson.train_avc(fusion, d, TINY, progress=False)
    longer, longer_histories = lesson.train_at_08s_budget(d, TINY, progress=False)
    assert list(longer) == list(lesson.LONGER.values()) and all(h.step[-1] == 3 for h in longer_histories.values())
    retrieval, longer_retrieval = lesson.retrieval_table(models, d), lesson.retrieval_table(longer, d)
    assert len(retrieval) == 3 * 4 and len(longer_retrieval) == 2 * 4
    budget = lesson.budget_table(retrieval, longer_retrieval, {**histories, **longer_histories})
    assert list(budget["steps"]) == [TINY.steps] * 3 + [3, 3] and budget.shape == (5, 5)
    assert ((retrieval["recall@1"] <= retrieval["recall@5"]) & (retrieval["recall@5"] <= retrieval["recall@10"])).all()
    zero = lesson.zero_shot_table(infonce, d, TINY)
    assert zero.shape == (7, 2) and zero.iloc[1, 0].draws == TINY.draws
    assert set(zero.loc["probe C (val), 10 labels"]) <= set(evaluate.PROBE_CS)  # the probes' C, chosen on validation
    assert list(zero.index[:2]) == [lesson.ZERO_SHOT_ROW, lesson.NEAREST_MEAN_ROW]  # the control beside zero-shot
    scenes = lesson.load_scenes(d, TINY)
    text, _ = lesson.train_text(scenes, TINY, progress=False)
    bag, _ = lesson.train_text(scenes, TINY, encoder="bag", progress=False)
    table = lesson.text_table({"gru": text, "bag": bag}, scenes)
    assert table.loc["bag", "caption vs colour-swapped twin"] == pytest.approx(50.0)  # a tie every time: a coin
    teacher, _ = lesson.train_teacher(d, TINY, progress=False)
    student, _ = lesson.train_soundnet(teacher, d, TINY, progress=False)
    supervised, _ = lesson.train_sound_supervised(d, TINY, progress=False)
    sound = lesson.soundnet_table(teacher, student, supervised, d)
    out = lesson.metrics(retrieval, zero, table, sound, "gru", longer=longer_retrieval)
    wanted = {f"recall1_{direction}_{m}" for direction in ("audio_to_image", "image_to_audio")
              for m in ("infonce", "ave", "concat", "ave_08_budget", "concat_08_budget")}
    wanted |= {f"map_{direction}_{m}" for direction in lesson.DIRECTIONS for m in ("infonce", "ave", "concat")}
    wanted |= {"zero_shot_image_accuracy", "zero_shot_audio_accuracy", "nearest_mean_image_accuracy",
               "nearest_mean_audio_accuracy", "recall1_text_to_image",
               "zero_shot_heldout_combinations", "soundnet_accuracy", "soundnet_supervised_accuracy"}
    assert wanted <= set(out) and all(np.isfinite(v) for v in out.values())
    for ordering in lesson.ORDERINGS:  # every ordering the notebook states is on numbers it records
        than = (ordering.than,) if isinstance(ordering.than, str) else ordering.than
        assert {ordering.better, *than} <= set(out), ordering.statement
    assert len(run_names) == len(set(run_names)) == 10  # every training run has its own checkpoint name


def test_bag_of_words_cannot_tell_a_caption_from_its_colour_swapped_twin(d):
    scenes = lesson.load_scenes(d, TINY)
    model = lesson.make_text_model(TINY, 0, encoder="bag").eval()
    twins = lesson.swapped_captions(scenes.test)
    t = model.embed_text(twins.flatten(0, 1)).view(len(scenes.test), 2, -1)
    assert torch.allclose(t[:, 0], t[:, 1], atol=1e-6)  # the same words: the same embedding
    gru = lesson.make_text_model(TINY, 0, encoder="gru").eval()
    t = gru.embed_text(twins.flatten(0, 1)).view(len(scenes.test), 2, -1)
    differ = scenes.test.colour[:, 0] != scenes.test.colour[:, 1]
    assert not torch.allclose(t[differ, 0], t[differ, 1])


def test_retrieval_of_a_perfect_shared_space_is_perfect(d):
    class Oracle(torch.nn.Module):  # embeds everything as its digit: a shared space told the digits
        def __init__(self, digits_of):
            super().__init__()
            self.digits_of = digits_of

        def embed_image(self, x):
            return F.one_hot(self.digits_of(x), 10).float()

        embed_audio = embed_image

    lookup = {}
    for x, y in ((d.test_images, d.test_image_digits), (d.test_sounds, d.test_sound_digits)):
        lookup[x.shape[1:]] = (x, y)

    def digits_of(x):
        pool, labels = lookup[x.shape[1:]]
        return torch.stack([labels[(pool == item).flatten(1).all(1).nonzero()[0, 0]] for item in x])

    table = lesson.retrieval_table({"oracle": Oracle(digits_of)}, d)
    assert (table["recall@1"] == 1).all() and (table["mAP"] > 0.999).all()


def test_the_explorer_finds_neighbours_of_every_kind_and_draws_without_a_kernel(d):
    infonce = lesson.make_infonce(TINY, 0)
    scenes = lesson.load_scenes(d, TINY)
    text = lesson.make_text_model(TINY, 0)
    demo = lesson.explorer(infonce, text, d, scenes.test)
    for kind in demo.controls["kind"].options:
        picture = demo.update(kind=kind)
        assert picture.ndim == 3 and picture.shape[2] == 3
    assert demo.values()["query"] in demo.controls["query"].options
    lesson.show_neighbours(infonce, text, d, scenes.test)


# --- the exercise checker: an answer written here, and the mistakes students make ------------------------------


def _infonce(image, other, log_scale):
    """An answer written for this test: -log of each pair's share of its row's and of its column's exp-scores."""
    cosine = (image / image.norm(dim=1, keepdim=True)) @ (other / other.norm(dim=1, keepdim=True)).T
    e = torch.exp(torch.exp(log_scale) * cosine)
    own = e.diagonal()
    return -(torch.log(own / e.sum(1)).mean() + torch.log(own / e.sum(0)).mean()) / 2


def _infonce_as_the_old_hint_said(image, other, log_scale):
    """The form the exercise's old hint suggested, which the old checker (a float log_scale) refused."""
    image, other = F.normalize(image, dim=1), F.normalize(other, dim=1)
    logits = torch.exp(log_scale) * image @ other.T
    return (F.cross_entropy(logits, torch.arange(len(image))) + F.cross_entropy(logits.T, torch.arange(len(image)))) / 2


def _infonce_with_a_temperature(image, other, log_scale):
    """Another correct form: the temperature 1 / e^t divides, a list of targets, the mean loss of shape (1,)."""
    logits = F.cosine_similarity(image[:, None], other[None], dim=2) / (1 / log_scale.exp())
    own = torch.tensor(list(range(len(image))))
    return 0.5 * (F.cross_entropy(logits, own, reduction="none") + F.cross_entropy(logits.T, own, reduction="none")
                  ).mean().reshape(1)


def _infonce_with_one_hot_targets(image, other, log_scale):
    """Another correct form: the targets as probabilities (the identity matrix), the scale from a Python-side exp."""
    logits = log_scale.exp() * F.normalize(image, dim=1) @ F.normalize(other, dim=1).T
    eye = torch.eye(len(image), device=image.device)
    return F.cross_entropy(logits, eye) / 2 + F.cross_entropy(logits.T, eye) / 2


@pytest.mark.parametrize("right", [lesson.je.symmetric_infonce, _infonce, _infonce_as_the_old_hint_said,
                                   _infonce_with_a_temperature, _infonce_with_one_hot_targets])
def test_check_infonce_accepts_the_reference_and_answers_written_here(right, capsys):
    lesson.check_infonce(right)
    assert "symmetric InfoNCE: correct" in capsys.readouterr().out


def _both_ways(logits, own=None):
    own = torch.arange(len(logits)) if own is None else own
    return (F.cross_entropy(logits, own) + F.cross_entropy(logits.T, own)) / 2


def _summed(logits):
    """Both directions' cross-entropies with reduction='sum', added."""
    own = torch.arange(len(logits))
    return F.cross_entropy(logits, own, reduction="sum") + F.cross_entropy(logits.T, own, reduction="sum")


def _cosines(v, a):
    return F.normalize(v, dim=1) @ F.normalize(a, dim=1).T


def _numpy(v, a, t):
    v, a = v.detach().numpy(), a.detach().numpy()
    logits = float(np.exp(t.item())) * (v / np.linalg.norm(v, axis=1, keepdims=True)) @ (
        a / np.linalg.norm(a, axis=1, keepdims=True)).T
    rows = -np.log(np.exp(logits).diagonal() / np.exp(logits).sum(1)).mean()
    columns = -np.log(np.exp(logits).diagonal() / np.exp(logits).sum(0)).mean()
    return (rows + columns) / 2


def _fixed_batch(v, a, t):
    """Written for the notebook's first batch: the targets of 8 pairs."""
    logits = torch.exp(t) * _cosines(v, a)
    return (F.cross_entropy(logits, torch.arange(8)) + F.cross_entropy(logits.T, torch.arange(8))) / 2


def _normalised_in_place(v, a, t):
    v /= v.norm(dim=1, keepdim=True)
    a /= a.norm(dim=1, keepdim=True)
    return _both_ways(torch.exp(t) * v @ a.T)


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(lambda v, a, t: F.cross_entropy(torch.exp(t) * _cosines(v, a), torch.arange(len(v))),
                 r"one direction only \(image -> other\)", id="image-to-other-only"),
    pytest.param(lambda v, a, t: F.cross_entropy(torch.exp(t) * _cosines(v, a).T, torch.arange(len(v))),
                 r"one direction only \(other -> image\)", id="other-to-image-only"),
    pytest.param(lambda v, a, t: 2 * _both_ways(torch.exp(t) * _cosines(v, a)), "added, not averaged",
                 id="directions-added"),
    pytest.param(lambda v, a, t: _both_ways(_cosines(v, a) / torch.exp(t)), "temperature is in the wrong place",
                 id="divided-by-the-scale"),
    pytest.param(lambda v, a, t: _both_ways(t * _cosines(v, a)), "the scale itself is e.t", id="log-scale-not-exp"),
    pytest.param(lambda v, a, t: _both_ways(torch.exp(t) * v @ a.T), "not unit length", id="not-normalised"),
    pytest.param(lambda v, a, t: _both_ways(torch.exp(t) * F.normalize(v, dim=0) @ F.normalize(a, dim=0).T),
                 "wrong axis", id="normalised-along-the-batch"),
    pytest.param(lambda v, a, t: F.cross_entropy(torch.exp(t) * _cosines(v, a), torch.arange(len(v)),
                                                 reduction="none"), r"returned shape \(8,\); expected one number",
                 id="a-loss-per-row"),
    pytest.param(lambda v, a, t: _both_ways(math.exp(t.item()) * _cosines(v, a)), "log_scale gets no gradient",
                 id="temperature-that-cannot-learn"),
    pytest.param(lambda v, a, t: _both_ways(torch.tensor(t.item()).exp() * _cosines(v, a)),
                 "log_scale gets no gradient", id="log-scale-copied-into-a-new-tensor"),
    pytest.param(lambda v, a, t: _both_ways(torch.exp(t) * _cosines(v, a)).item(), "you returned a float",
                 id="item-detaches"),
    pytest.param(_numpy, "you returned a float32: keep the loss a torch tensor", id="numpy"),
    pytest.param(lambda v, a, t: _both_ways(torch.exp(t) * _cosines(v.detach(), a.detach())),
                 "the embeddings get no gradient", id="embeddings-detached"),
    pytest.param(lambda v, a, t: _both_ways(torch.exp(t) * (v / v.norm(dim=1, keepdim=True).detach())
                                            @ (a / a.norm(dim=1, keepdim=True).detach()).T),
                 "the value is right but the gradients are not", id="norms-detached"),
    pytest.param(lambda v, a, t: _both_ways(torch.exp(t) * _cosines(v.numpy(), a)), "RuntimeError.*need gradients",
                 id="numpy-on-a-tensor-that-needs-gradients"),
    pytest.param(_fixed_batch, "ran on the first batch but not on this one", id="batch-size-written-in"),
    pytest.param(lambda v, a, t: _both_ways(_cosines(v, a) / t), "temperature is in the wrong place",
                 id="log-scale-taken-for-the-temperature"),
    pytest.param(lambda v, a, t: _both_ways(_cosines(v, a) / 0.07), "log_scale is not read",
                 id="a-fixed-float-temperature"),
    pytest.param(lambda v, a, t: _both_ways(math.exp(t) * _cosines(v, a)), "log_scale gets no gradient",
                 id="math-exp-on-the-parameter", marks=pytest.mark.filterwarnings("ignore:Converting a tensor")),
    pytest.param(lambda v, a, t: _both_ways(torch.exp(t) * _cosines(v, a), torch.zeros(len(v), dtype=torch.long)),
                 "targets are not each pair's own", id="every-target-zero"),
    pytest.param(lambda v, a, t: _both_ways(torch.exp(t) * _cosines(v, a), torch.arange(len(v)).flip(0)),
                 "targets are not each pair's own", id="targets-reversed"),
    pytest.param(lambda v, a, t: _both_ways(torch.exp(t) * _cosines(v, a), torch.randperm(len(v))), "you gave",
                 id="targets-shuffled"),
    pytest.param(lambda v, a, t: _both_ways((torch.exp(t) * _cosines(v, a)).softmax(1)), "softmax before",
                 id="softmax-twice"),
    pytest.param(lambda v, a, t: _summed(torch.exp(t) * _cosines(v, a)) / 2,
                 r"summed over the batch \(a reduction of 'sum'\), not averaged over it$", id="summed-over-the-batch"),
    pytest.param(lambda v, a, t: _summed(torch.exp(t) * _cosines(v, a)),
                 "summed over the batch .*, not averaged over it; and the two directions are added",
                 id="summed-over-the-batch-and-directions-added"),
    pytest.param(_normalised_in_place, "RuntimeError.*in-place", id="normalised-in-place"),
])
def test_check_infonce_rejects_a_typical_mistake_without_giving_the_answer(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_infonce(wrong)
    message = str(rejected.value)
    assert not any(code in message for code in ("F.normalize(", "cross_entropy(", "@", ".T", "torch.exp(")), message


def test_check_infonce_leaves_the_random_stream_alone():
    before = torch.random.get_rng_state()
    lesson.check_infonce(_infonce)
    assert torch.equal(before, torch.random.get_rng_state())


def test_the_course_trains_with_its_own_infonce_unless_told_otherwise():
    assert inspect.signature(lesson.je.clip_loss).parameters["infonce"].default is lesson.je.symmetric_infonce


def test_a_students_infonce_trains_the_short_run_and_its_temperature_moves(d, capsys):
    calls = []

    def counted(image, other, log_scale):
        calls.append((image.shape, log_scale.requires_grad))
        return _infonce(image, other, log_scale)

    sizes = dataclasses.replace(TINY, name="ci", seconds=600)  # every step, even on a busy machine
    model, history = lesson.train_with_your_loss(counted, d, sizes)
    assert len(calls) == lesson.YOUR_RUN_STEPS["ci"] and calls[0] == ((sizes.pairs_per_step, 64), True)
    # the temperature learns through the student's loss (which way depends on the data: these fakes hold no pairing)
    assert max(abs(math.log(t / lesson.YOUR_RUN_TEMPERATURE)) for t in history["temperature"]) > 0.05
    assert 0 <= history.last("acc") <= 1
    lesson.show_your_run(model, history, d, sizes)
    printed = capsys.readouterr().out
    assert f"after {lesson.YOUR_RUN_STEPS['ci']} steps" in printed and "chance" in printed
    assert f"{lesson.YOUR_RUN_TEMPERATURE:.3f} at the start" in printed


def test_infonce_at_08s_budget_trains_08s_steps_and_records_what_its_orderings_read(d, monkeypatch):
    monkeypatch.setitem(lesson.SIZES, "lab", TINY)
    monkeypatch.setitem(ss.SIZES, TINY.name, dataclasses.replace(ss.SIZES[TINY.name], steps=4))  # 08's budget
    monkeypatch.setattr(infonce_budget, "load", lambda sizes, seed=0: d)
    metrics = infonce_budget.budget_metrics(seed=0)
    assert metrics["steps_infonce_08_budget"] == 4 and metrics["capped_infonce_08_budget"] == 0
    ordered = {name for ordering in lesson.BUDGET_ORDERINGS for name in ordering.metrics}
    assert {name for name in ordered if name.endswith(infonce_budget.SHORT)} <= set(metrics)
    assert all(0 <= metrics[name] <= 1 for name in metrics if name.startswith(("recall1", "map")))


def test_the_budget_orderings_read_numbers_the_notebook_records():
    recorded = json.loads((config.REPO_ROOT / "results/lab/11_multimodal_embeddings.json").read_text())
    theirs = {name for o in lesson.BUDGET_ORDERINGS for name in o.metrics if not name.endswith(infonce_budget.SHORT)}
    assert theirs <= set(recorded["metrics"])
