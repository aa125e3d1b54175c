"""course_lib: the library behind the course "Self-supervised learning and multimodal embeddings".

Self-supervision withholds part of the data and asks a network to predict it. Each pretext task in
``course_lib.pretext`` is a pairs maker, a head and a loss; everything else is shared:
``config`` (profiles, device, seed, data root), ``data`` (real datasets), ``nets`` (the backbone),
``train`` (one loop), ``evaluate`` (one protocol), ``papers`` and ``show`` (paper vs ours). Above that ground floor:
``session`` (a notebook's setup and record), ``results``, ``pretrained`` (where a run's weights come from) and
``checkpoints`` (the shipped weights). Each notebook ``NN_<name>.ipynb`` has one lesson,
``course_lib.lessons.<name>``: its recipes, sizes and pictures.
"""

__version__ = "0.1.0"
