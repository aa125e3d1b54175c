# Two commands for a fresh machine (see README):
#   make lab    set everything up and open the course in JupyterLab
#   make test   set everything up and run every test: lint (and stale student copies), unit tests, every notebook
#               under nbval (ci profile) and every student copy (lab profile, shipped weights)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

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
	$(BIN)/python -m pytest -q tests

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
