"""Every ordering notebook 07 states, on its recorded metrics, for its table over pretraining seeds."""

from __future__ import annotations

from course_lib import nets, seeds


def _beats(statement: str, better: str, than: str | tuple[str, ...], at: str = "best") -> seeds.Ordering:
    """An ordering of recorded probes: rows by their metric keys (``KEYS``), at one layer or at the best (val)."""
    others = f"probe_{than}_{at}" if isinstance(than, str) else tuple(f"probe_{key}_{at}" for key in than)
    return seeds.Ordering(statement, f"probe_{better}_{at}", others)


# Every ordering the notebook states, for its table over pretraining seeds (``seeds.table(NOTEBOOK, ORDERINGS)``):
# the claims it asserts (in ``lab``) first, then what it only reports. A tie the text states ("no difference") is an
# ordering too: its verdict should then read "no difference".
_CONTROLS = ("l_ab", "ab_l", "ab_l_full", "autoencoder", "split_brain_reg")
ORDERINGS = [
    _beats("split-brain (cl,cl) beats each of its halves (best layers, chosen on validation)",
           "split_brain_cl", ("l_ab", "ab_l")),
    *(_beats(f"split-brain (cl,cl) beats random init at {stage}", "split_brain_cl", "random", stage)
      for stage in ("conv3", "conv4", "conv5")),
    *(_beats(f"L→ab (cl), full width beats random init at {stage}", "l_ab_full", "random", stage)
      for stage in ("conv3", "conv4", "conv5")),
    _beats("L→ab (cl), full width beats random init at conv2", "l_ab_full", "random", "conv2"),
    *(_beats(f"L→ab (cl), half beats random init at {stage}", "l_ab", "random", stage) for stage in ("conv4", "conv5")),
    *(_beats(f"split-brain (cl,cl) beats Ensembled L→ab at {stage}", "split_brain_cl", "ensembled_l_ab", stage)
      for stage in nets.STAGES),
    *(_beats(f"split-brain (cl,cl) beats its halves, ab→L full width, the autoencoder and (reg,reg) at {stage}",
             "split_brain_cl", _CONTROLS, stage) for stage in nets.STAGES),
    _beats("split-brain (cl,cl) beats random init at their best layers", "split_brain_cl", "random"),
    _beats("split-brain (cl,cl) beats Ensembled L→ab at their best layers", "split_brain_cl", "ensembled_l_ab"),
    _beats("split-brain (cl,cl) beats L→ab (cl), full width at their best layers",
           "split_brain_cl", "l_ab_full"),
    _beats("split-brain (cl,cl) beats the autoencoder at their best layers", "split_brain_cl", "autoencoder"),
    seeds.Ordering("random init falls from conv1 to conv5", "probe_random_conv1", "probe_random_conv5"),
    seeds.Ordering("split-brain (cl,cl) loses nothing from conv1 to conv5", "probe_split_brain_cl_conv5",
                   "probe_split_brain_cl_conv1"),
    _beats("colour → lightness is the weaker half: L→ab above ab→L (half width, best layers)", "l_ab", "ab_l"),
    _beats("the supervised network beats split-brain (cl,cl) (best layers)", "supervised", "split_brain_cl"),
]
