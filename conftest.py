"""pytest settings for the notebook runs (``make notebooks``: pytest-nbval over notebooks/ and student/).

After a cell finishes, nbval waits for each of its remaining output messages for 5 s, a constant rather than an
option (computationalmodelling/nbval#136 and #231). A busy 2-core CI machine can miss that after a training cell that
streamed progress bars, and the notebook then fails with "Timeout of 5 seconds exceeded waiting for output" although
the cell ran. A minute still catches a kernel that hangs."""

NBVAL_OUTPUT_TIMEOUT = 60  # seconds nbval waits for each output message of a finished cell


def pytest_collection_modifyitems(items):
    for item in items:
        if hasattr(item, "output_timeout"):  # nbval's cell items
            item.output_timeout = NBVAL_OUTPUT_TIMEOUT
