import matplotlib
import pytest
import torch

from course_lib import papers, show, train

matplotlib.use("Agg")


def test_every_reported_number_cites_a_known_paper():
    for r in papers.REPORTED:
        assert r.paper in papers.PAPERS
        assert papers.cite(r.paper).startswith(papers.PAPERS[r.paper].authors)


def test_reported_returns_a_papers_numbers():
    assert papers.reported("doersch2015")["ImageNet labels"] == 56.8


def test_side_by_side_looks_up_and_marks_slide_numbers():
    table = papers.side_by_side("doersch2015", {"imagenet": ("ImageNet labels", 70.1), "ours only": (None, 3.0)})
    assert table.loc["imagenet", "paper"] == 56.8 and table.loc["imagenet", "ours"] == 70.1
    assert table.loc["imagenet", "note"] == "as on the lecture slide"
    assert table.loc["ours only", "paper"] == "-"
    assert "Doersch" in table.attrs["caption"]


def test_side_by_side_refuses_a_number_the_paper_does_not_report():
    with pytest.raises(KeyError, match="ImageNet labels"):
        papers.side_by_side("doersch2015", {"x": ("Imagenet label", 1.0)})


def test_image_grid_draws_one_axis_per_image():
    fig = show.image_grid(torch.rand(5, 3, 8, 8), titles=list("abcde"), ncols=3)
    assert sum(ax.has_data() or bool(ax.images) for ax in fig.axes) == 5


def test_label_efficiency_plot_has_a_line_per_method():
    fig = show.label_efficiency({"a": {1: 10.0, 10: 50.0}, "b": {1: 20.0, 10: 40.0}}, chance=10)
    assert len(fig.axes[0].lines) == 3


def test_withheld_parts_shows_four_rows():
    fig = show.withheld_parts(torch.rand(3, 3, 32, 32))
    assert len(fig.axes) == 4 * 3


def test_curves_draws_each_series_against_its_x():
    fig = show.curves({"a": [3.0, 2.0, 1.0], "b": [1.0, 1.0]}, x={"a": [10, 20, 30], "b": [10, 20]})
    lines = fig.axes[0].lines
    assert [list(line.get_xdata()) for line in lines] == [[10, 20, 30], [10, 20]]


def test_figures_come_back_closed_so_notebooks_show_them_once():
    import matplotlib.pyplot as plt

    show.image_grid(torch.rand(2, 1, 8, 8))
    assert plt.get_fignums() == []


def _history(values):
    from course_lib.train import History

    h = History()
    for step, v in enumerate(values):
        h.log(10 * step, 0.0, {"loss": v})
    return h


def test_training_draws_one_line_per_run_on_one_axis():
    fig = show.training({"a": _history([3, 2, 1]), "b": _history([2, 2, 2])}, ylabel="loss")
    (ax,) = fig.axes
    assert len(ax.lines) == 2 and list(ax.lines[0].get_xdata()) == [0, 10, 20]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]


def test_training_separate_gives_each_run_a_titled_panel():
    fig = show.training({n: _history([1, 0.5]) for n in "abcde"}, separate=True)
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in titled] == list("abcde") and all(len(ax.lines) == 1 for ax in titled)


def test_against_chance_draws_the_run_and_a_dashed_chance_line():
    history = train.History(step=[10, 20], values={"acc": [0.3, 0.6]})
    fig = show.against_chance(history, "acc", chance=0.125, title="t")
    (ax,) = fig.axes
    run, chance = ax.get_lines()
    assert list(run.get_xdata()) == [10, 20] and list(run.get_ydata()) == [0.3, 0.6]
    assert set(chance.get_ydata()) == {0.125} and chance.get_linestyle() == "--"
