"""Early stopping: a training run graded on validation data as it goes, stopped when it stops improving, and its
best weights kept. The from-scratch baseline of notebook 05 and the supervised fence of the scoreboard (12) stop with
it: a baseline trained to its validation optimum, not to a step count chosen for another method."""

from __future__ import annotations

import torch

from course_lib import evaluate


class EarlyStopping:
    """Watch one training run on validation data: grade it every ``every`` steps, keep the best weights, and end
    its stream of batches once ``patience`` gradings in a row have not beaten the best (``train.fit`` then stops:
    its data ran out). ``finish`` grades the last step and puts the best weights back."""

    def __init__(self, model: torch.nn.Module, val_xy, every: int, patience: int):
        self.model, self.val_xy, self.every, self.patience = model, val_xy, every, patience
        self.curve: list[tuple[int, float]] = []  # (step, validation accuracy %)
        self.best_step, self.best_accuracy, self.stopped_early = 0, -1.0, False
        self._since_best = 0
        self._best_weights: dict[str, torch.Tensor] | None = None

    def stream(self, batches):
        """``batches``, cut short when validation accuracy stops rising."""
        for step, batch in enumerate(batches):  # ``step`` optimiser steps are done when batch ``step`` is asked for
            if step and step % self.every == 0:
                self.grade(step)
                if self._since_best >= self.patience:
                    self.stopped_early = True
                    return
            yield batch

    def grade(self, step: int) -> None:
        accuracy = evaluate.accuracy(self.model, *self.val_xy)  # in eval mode
        self.model.train()  # back to training: BatchNorm uses batch statistics again
        self.curve.append((step, accuracy))
        if accuracy > self.best_accuracy:
            self.best_step, self.best_accuracy, self._since_best = step, accuracy, 0
            self._best_weights = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        else:
            self._since_best += 1

    def finish(self, steps_done: int) -> None:
        """Grade the last step (unless just graded), then keep the best weights, in eval mode."""
        if not self.curve or self.curve[-1][0] != steps_done:
            self.grade(steps_done)
        self.model.load_state_dict(self._best_weights)
        self.model.eval()

    def after_training(self, steps: int):
        """``train.fit``'s ``after`` hook: finish (the best weights are the ones a checkpoint keeps) and log the
        validation curve into the run's history, so a run loaded from a checkpoint still has it."""
        def after(model, history) -> None:
            # the steps it took: where validation stopped it, where the time cap did, or all of them
            self.finish(self.curve[-1][0] if self.stopped_early else history.step[-1] if history.capped else steps)
            if not history.capped:  # a capped run keeps saying so; otherwise say where it stopped, and why
                history.stopped_by = (f"{'stopped on validation at' if self.stopped_early else 'all'} "
                                      f"{self.curve[-1][0]} steps, the best weights kept (step {self.best_step}: "
                                      f"{self.best_accuracy:.1f} % on validation)")
            history.values["val_step"] = [float(step) for step, _ in self.curve]
            history.values["val_accuracy"] = [accuracy for _, accuracy in self.curve]
            history.values["best_step"] = [float(self.best_step)]
            history.values["stopped_early"] = [float(self.stopped_early)]
        return after
