"""The device paths a Colab student meets on a GPU: run with `pytest -m gpu` on a CUDA machine (``.ci/gpu`` does);
skipped without one. What can be checked on a CPU is checked in the tests of each module."""

import pytest
import torch
from torch import nn

from course_lib import config, evaluate, nets, pretrained, train

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (pytest -m gpu on one)")]


def test_course_device_cuda_is_honoured(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    assert config.device().type == "cuda"


def test_training_runs_on_the_gpu_with_data_resident_there():
    x = torch.randn(64, 1, 28, 28, device="cuda")
    y = torch.randint(10, (64,), device="cuda")
    model = nets.Classifier(nets.random_backbone(1, 8, 0, "cuda"), 10).cuda()
    history = train.train_classifier(model, x, y, steps=5, batch_size=16, progress=False, log_every=1)
    assert len(history["loss"]) == 5 and all(torch.isfinite(torch.tensor(history["loss"])))
    assert next(model.parameters()).is_cuda


def test_features_of_a_gpu_network_come_back_on_the_cpu_and_probe_there():
    backbone = nets.random_backbone(1, 8, 0, "cuda")
    x, y = torch.rand(60, 1, 28, 28, device="cuda"), torch.arange(60, device="cuda") % 3
    features = evaluate.stage_features(backbone, x, ["conv1", "conv5"])
    assert all(f.device.type == "cpu" for f in features.values())
    scores = evaluate.probe_layers(features, y, features, y, features, y)
    assert set(scores.test) == {"conv1", "conv5"}


@pytest.mark.parametrize("saved_on, loaded_on", [("cuda", "cpu"), ("cpu", "cuda")])
def test_a_checkpoint_saved_on_one_device_loads_onto_the_other(tmp_path, monkeypatch, saved_on, loaded_on):
    monkeypatch.setenv("COURSE_CHECKPOINTS", str(tmp_path))
    monkeypatch.setenv("COURSE_PROFILE", "lab")
    monkeypatch.setenv("COURSE_SEED", "0")
    x = torch.randn(32, 3)

    def run(device):
        model = nn.Linear(3, 1).to(device)
        data = train.batches(x.to(device), x.sum(1, keepdim=True).to(device), batch_size=8)
        pretrained.load_or_train(model, "99_x/linear", lambda: train.fit(
            model, data, lambda m, b: ((m(b[0]) - b[1]) ** 2).mean(), steps=3, progress=False), steps=3)
        return model

    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "b1")
    built = run(saved_on)
    monkeypatch.delenv("COURSE_CHECKPOINT_BUILD")
    monkeypatch.setenv("COURSE_PRETRAINED", "1")
    loaded = run(loaded_on)
    assert loaded.weight.device.type == loaded_on
    assert torch.equal(loaded.weight.cpu(), built.weight.detach().cpu().half().float())
