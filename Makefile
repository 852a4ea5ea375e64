# The three commands of the README are `make book`, `make lab` and `make test`; each sets up .venv first.
PY := .venv/bin/python
export INR_PROGRESS ?= 0
.PHONY: setup book lab test chapters bench clean paper-size

setup:
	@bash scripts/setup.sh

book: setup
	.venv/bin/jupyter-book build . -W -n --keep-going
	@echo "The book is at $(CURDIR)/_build/html/index.html"

# The chapters in JupyterLab, on working copies in lab/ (git ignores it; a chapter missing
# there is copied from chapters/, with citations, glued numbers and figure numbers written out
# as the site shows them), so running and autosaving never change the committed book.
# Progress bars on (the book's executed pages turn them off). Jupyter refuses to run as root
# (containers, CI machines) unless told --allow-root.
lab: export INR_PROGRESS := 1
lab: setup
	@$(PY) scripts/lab_copies.py lab
	.venv/bin/jupyter-lab $(if $(filter 0,$(shell id -u)),--allow-root) lab/

test: setup
	INR_PROFILE=quick $(PY) -m pytest

# Re-execute chapters in place (quick profile unless INR_PROFILE says otherwise), e.g.
# `make chapters` or `make chapters NB=chapters/02_images.ipynb`.
NB ?= chapters/*.ipynb
chapters: setup
	$(PY) scripts/execute_chapters.py $(NB)

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf _build

# On a lent GPU machine (no setup there: it installs the carried .whl/ wheels itself); see
# scripts/paper_size.sh and README's "On a GPU". OUT is where the results go.
paper-size:
	OUT=$(or $(OUT),out) bash scripts/paper_size.sh
