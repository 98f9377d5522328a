# Two commands for a fresh Linux machine with Python >= 3.10:
#   make run    set up .venv and start the dashboard on http://127.0.0.1:5000/
#   make test   set up .venv and run the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
ARGS   ?=

.PHONY: run test bench clean

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python >= 3.10 is needed"'
	$(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: on Debian/Ubuntu run: sudo apt-get install python3-venv"; exit 1; }
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.run-deps: requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	@touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@ $(VENV)/.run-deps

run: $(VENV)/.run-deps
	$(PY) app.py $(ARGS)

test: $(VENV)/.dev-deps
	$(PY) -m pytest $(ARGS)

bench: $(VENV)/.dev-deps
	$(PY) -m bench.sampler && $(PY) -m bench.latency && $(PY) -m bench.fanout && $(PY) -m bench.browser

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
