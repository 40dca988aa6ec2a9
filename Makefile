# `make book` and `make test` each set up .venv on first use (about 5 GB: PyTorch with CUDA libraries).
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: book test notebooks benchmarks check-html clean

$(VENV)/.installed: requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

## book: build the HTML book into _build/html from the notebooks' stored outputs
book: $(VENV)/.installed
	$(VENV)/bin/jupyter-book build . --warningiserror --nitpick --keep-going

## test: lint, unit tests, then every notebook rerun with the smoke profile (nbval)
test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	MPLBACKEND=Agg $(PY) -m pytest -q tests
	CKATOOLS_PROFILE=smoke CKATOOLS_CACHE=$(CURDIR)/_build/smoke-cache $(PY) -m pytest -q --nbval-lax notebooks

## notebooks: rerun every chapter with the cpu profile and store the outputs (what the book shows).
## No MPLBACKEND here: the notebooks' inline backend is what stores each figure.
notebooks: $(VENV)/.installed
	CKATOOLS_PROFILE=cpu $(VENV)/bin/jupyter execute --inplace notebooks/*.ipynb

## check-html: screenshot every built page in headless Chromium and report missing images or sliders
check-html: book
	$(PY) tools/check_html.py _build/html

## benchmarks: print speed ratios against peers and baselines (about 42 minutes on 2 CPU cores)
benchmarks: $(VENV)/.installed
	MPLBACKEND=Agg $(PY) benchmarks/bench_cka_matrix.py
	MPLBACKEND=Agg $(PY) benchmarks/bench_model_cka.py --depths 20 --memory-images
	MPLBACKEND=Agg $(PY) benchmarks/bench_model_cka.py --depths 38 --skip torch_cka
	MPLBACKEND=Agg $(PY) benchmarks/bench_training.py
	MPLBACKEND=Agg $(PY) benchmarks/bench_prepare.py
	MPLBACKEND=Agg $(PY) benchmarks/bench_population_cka.py
	MPLBACKEND=Agg $(PY) benchmarks/bench_components.py
	MPLBACKEND=Agg $(PY) -W ignore benchmarks/bench_probes.py --every 6

clean:
	rm -rf _build
