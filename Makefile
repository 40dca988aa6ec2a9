# `make book` and `make test` each set up .venv on first use (about 5 GB: PyTorch with CUDA libraries).
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: book test notebooks benchmarks check-html clean lock

# Installs the exact versions of constraints.txt (what the committed outputs were made with).
$(VENV)/.installed: requirements.txt pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -r requirements.txt
	touch $@

## lock: re-resolve requirements.txt to the newest releases and rewrite constraints.txt
lock:
	rm -rf _build/lock-venv
	python3 -m venv _build/lock-venv
	_build/lock-venv/bin/pip install -q -r requirements.txt
	(head -2 constraints.txt; _build/lock-venv/bin/pip freeze --exclude-editable | grep -v '^ckatools') > constraints.new
	mv constraints.new constraints.txt

## book: build the HTML book into _build/html from the notebooks' stored outputs
book: $(VENV)/.installed
	$(VENV)/bin/jupyter-book build . --warningiserror --nitpick --keep-going

## test: lint, unit tests, then every notebook rerun with the smoke profile (nbval). Two
## pytest-xdist workers of one thread each; each file (or notebook) runs whole on one worker. Most
## tests are too small to use two threads; their networks are shared through one cache (its locks
## train each once).
TESTS := OMP_NUM_THREADS=1 $(PY) -m pytest -q -n 2 --dist loadfile
test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	MPLBACKEND=Agg $(TESTS) tests
	CKATOOLS_PROFILE=smoke CKATOOLS_CACHE=$(CURDIR)/_build/smoke-cache $(TESTS) --nbval-lax notebooks

## notebooks: rerun every chapter with the cpu profile and store the outputs (what the book shows).
## No MPLBACKEND here: the notebooks' inline backend is what stores each figure.
notebooks: $(VENV)/.installed
	CKATOOLS_PROFILE=cpu $(VENV)/bin/jupyter execute --inplace notebooks/*.ipynb

## check-html: screenshot every built page in headless Chromium and report missing images or sliders
check-html: book
	$(PY) tools/check_html.py _build/html

## benchmarks: print speed ratios against peers and baselines (about an hour on 2 CPU cores)
benchmarks: $(VENV)/.installed
	MPLBACKEND=Agg $(PY) benchmarks/bench_cka_matrix.py
	MPLBACKEND=Agg $(PY) benchmarks/bench_model_cka.py --depths 20 --memory-images
	MPLBACKEND=Agg $(PY) benchmarks/bench_model_cka.py --depths 38 --skip torch_cka
	MPLBACKEND=Agg $(PY) benchmarks/bench_training.py
	MPLBACKEND=Agg $(PY) benchmarks/bench_prepare.py --depths 8 38 14 --epochs 3
	MPLBACKEND=Agg $(PY) benchmarks/bench_stack_step.py
	MPLBACKEND=Agg $(PY) benchmarks/bench_population_cka.py
	MPLBACKEND=Agg $(PY) benchmarks/bench_components.py
	MPLBACKEND=Agg $(PY) -W ignore benchmarks/bench_probes.py --every 6

clean:
	rm -rf _build
