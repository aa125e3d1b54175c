"""Notebook 10's design beside the paper's (``DESIGN_VS_PAPER``)."""

from __future__ import annotations

# --- beside the paper ---------------------------------------------------------------------------------------------

_ABSTRACT = "the paper's abstract"
_UNCHECKED = "from a summary of the paper, not checked in the paper itself"
DESIGN_VS_PAPER = [
    {"what": "inputs", "paper": "still image(s) of the target face + an audio speech segment",
     "ours": "one MNIST digit in a writer's style + a spoken digit (0.77 s, 32 x 32 log-mel)", "note": _ABSTRACT},
    {"what": "model", "paper": "encoder-decoder CNN on a joint embedding of the face and the audio",
     "ours": "audio encoder + identity encoder (nets.Backbone), joint embedding at 3 x 3, upsampling decoder",
     "note": _ABSTRACT},
    {"what": "skip connections", "paper": "from the identity encoder to the decoder, important to keep the identity",
     "ours": "conv1 and conv2 maps into the decoder; ablation without them", "note": _UNCHECKED},
    {"what": "loss", "paper": "L1 to the real video frame", "ours": "L1 to the target image", "note": _UNCHECKED},
    {"what": "training data", "paper": "tens of hours of unlabelled video",
     "ours": "2,500 FSDD recordings of five speakers (the sixth is the test set), MNIST images paired by the spoken "
             "digit", "note": _ABSTRACT},
    {"what": "sharpening", "paper": "a separate deblurring CNN", "ours": "none", "note": _UNCHECKED},
]
