"""One module per notebook, named like it: everything that notebook needs beyond the shared library.

    notebooks/00_learning_paradigms.ipynb  -> lessons/learning_paradigms/
    notebooks/01_strong_supervision.ipynb  -> lessons/strong_supervision.py

A notebook imports its lesson as ``from course_lib.lessons import <name> as lesson`` and reads its sizes with
``sizes = lesson.SIZES[session.profile.name]``. A lesson holds the notebook's recipes, its sizes for ``ci``,
``lab`` and ``full``, its pictures, its table beside the paper and its exercise checkers; the method itself lives in
``course_lib.pretext``, everything shared in the modules one floor down.
"""
