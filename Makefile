# `make book` and `make test` each set up .venv on first use (about 5 GB: PyTorch with CUDA libraries).
VENV ?= .venv
PY := $(VENV)/bin/python
export MPLBACKEND := Agg

.PHONY: book test notebooks benchmarks clean

$(VENV)/.installed: requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

## book: build the HTML book into _build/html from the notebooks' stored outputs
book: $(VENV)/.installed
	$(VENV)/bin/jupyter-book build . --warningiserror --nitpick --keep-going

## test: unit tests, then every notebook rerun with the smoke profile (nbval)
test: $(VENV)/.installed
	$(PY) -m pytest -q tests
	CKATOOLS_PROFILE=smoke CKATOOLS_CACHE=$(CURDIR)/_build/smoke-cache $(PY) -m pytest -q --nbval-lax notebooks

## notebooks: rerun every chapter with the cpu profile and store the outputs (what the book shows)
notebooks: $(VENV)/.installed
	CKATOOLS_PROFILE=cpu $(VENV)/bin/jupyter execute --inplace notebooks/*.ipynb

## benchmarks: print speed ratios against peers and baselines (about 20 minutes on 2 CPU cores)
benchmarks: $(VENV)/.installed
	$(PY) benchmarks/bench_cka_matrix.py
	$(PY) benchmarks/bench_model_cka.py --depths 20 --memory-images
	$(PY) benchmarks/bench_model_cka.py --depths 38 --skip torch_cka
	$(PY) benchmarks/bench_training.py

clean:
	rm -rf _build
