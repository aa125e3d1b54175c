# Two commands for a fresh machine (see README):
#   make lab    set everything up and open the course in JupyterLab
#   make test   set everything up and run every test: lint (and stale student copies), unit tests, every notebook
#               under nbval (ci profile) and every student copy (lab profile, shipped weights)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The unit tests run on TEST_JOBS pytest workers (pytest-xdist), each with one torch thread: their tensors are tiny,
# and a thread per core costs them more than it gives (one test took 60 s alone and 581 s on two workers that each
# started a thread per core). One thread per worker, a worker per core: 947 s -> 276 s on 2 cores. The notebooks stay
# on one worker with torch's threads: their training is slower single-threaded (two notebooks side by side gained
# only 1.4 times, and 09's and 12's runs hit their time caps), and two ci claims failed single-threaded: 03's order
# verification and 08's shortcut lab (08 ran uncapped: its short ci runs move with the order of the arithmetic).
TEST_JOBS ?= 2

.PHONY: lab test lint unit notebooks student data-status fetch-data clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" > /dev/null
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

test: $(STAMP)
	$(MAKE) lint unit notebooks

lint: $(STAMP)
	$(BIN)/ruff check course_lib tests notebooks
	$(BIN)/python -m course_lib.student --check

student: $(STAMP)
	$(BIN)/python -m course_lib.student

unit: $(STAMP)
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -q -n $(TEST_JOBS) tests

# the instructor notebooks in the ci profile; the student copies in lab with the shipped weights, so every lab claim
# (and the agreement of each notebook's numbers with the committed results/lab/) is checked too
notebooks: $(STAMP)
	COURSE_PROFILE=ci $(BIN)/python -m pytest -q --nbval-lax --nbval-current-env notebooks
	COURSE_PROFILE=lab COURSE_PRETRAINED=1 $(BIN)/python -m pytest -q --nbval-lax --nbval-current-env student

data-status: $(STAMP)
	$(BIN)/python -m course_lib.data status

fetch-data: $(STAMP)
	$(BIN)/python -m course_lib.data fetch all

clean:
	rm -rf $(VENV) results/ci results/*-pretrained results/*-build
