# Two commands for a newcomer: `make run` (the demo checkpoint) and `make test` (every test).
# Both install what they need first, Debian packages included, and reuse it on the next run.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config/edge.toml
# pytest workers for make test: one per core, at most 4 (the live tests share one of them: tests/conftest.py).
TEST_WORKERS ?= $(shell n=$$(nproc); echo $$(( n < 4 ? n : 4 )))

# Debian packages: what the product needs at run time (a compiler and headers: hnswlib builds from
# source), and what the tests add (a real browser,
# a real MQTT broker, socat for serial pty pairs).
RUN_DEBS := python3-venv python3-dev g++ fonts-dejavu-core
TEST_DEBS := $(RUN_DEBS) chromium mosquitto socat systemd

.PHONY: run test lint lock models models-train debs-run debs-test clean

run: debs-run $(VENV)/.run-installed models
	$(BIN)/edge run --config $(CONFIG)

test: debs-test $(VENV)/.test-installed models
	$(BIN)/ruff check .
	$(BIN)/mypy
	@# pytest exits 5 when it collected no test: say so plainly instead of failing on a code.
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/mypy

# Apt only when something is missing, so a second `make run` starts in seconds.
debs-run:
	@$(call ensure_debs,$(RUN_DEBS))
debs-test:
	@$(call ensure_debs,$(TEST_DEBS))

define ensure_debs
	missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:" $$missing; \
	  sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi
endef

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# constraints.txt is the lock: a fresh machine gets exactly the versions the team tested.
# face_recognition goes in without its dependencies: it declares dlib, which builds from source
# for many minutes; dlib-bin (in pyproject) provides the same module prebuilt.
$(VENV)/.run-installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e .
	$(BIN)/pip install -q -c constraints.txt --no-deps face_recognition
	touch $@

$(VENV)/.test-installed: $(VENV)/.run-installed
	$(BIN)/pip install -q -c constraints.txt -e ".[test,export]"
	touch $@

models: $(VENV)/.run-installed

# Rebuild the plate models from their public sources (never needed by run or test: the weights are
# committed). SOURCES is a folder holding the git directories named in models/manifest.toml's
# [training_sources]; about 3 hours on 2 CPU cores, minutes on a GPU (docs/models.md).
TRAIN_FONTS := fonts-dejavu-core fonts-dejavu-extra fonts-liberation fonts-urw-base35 fonts-bebas-neue \
	fonts-opendin fonts-roboto-unhinted fonts-freefont-ttf fonts-league-spartan fonts-b612
models-train: $(VENV)/.test-installed
	@test -n "$(SOURCES)" || { echo "make models-train SOURCES=DIR (the training sources' git directories)"; exit 2; }
	@$(call ensure_debs,$(TRAIN_FONTS))
	$(BIN)/python models/plate_data.py --sources $(SOURCES)
	$(BIN)/python models/train_plate_reader.py
	$(BIN)/python models/train_plate_detector.py
	@# The sure-read threshold for the new reader, on its own validation crops: set it as SURE_CONFIDENCE in edge/config/plates.py.
	$(BIN)/edge alpr calibrate models/build/plates/calibration --target-precision 0.99

# Regenerate the lock from the current venv after changing dependencies on purpose.
lock:
	(echo "# Lock for a fresh machine: pip install -c constraints.txt. Regenerate with 'make lock'."; \
	 $(BIN)/pip freeze --all --exclude-editable | grep -vE "^(-e|pip==|checkpoint)") > constraints.txt

clean:
	rm -rf $(VENV) var
