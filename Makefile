# Two commands on a fresh Debian 12 machine (as root):
#   make demo   installs what is missing, then builds the default example end to end
#   make test   installs what is missing, then runs the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := iverilog berkeley-abc build-essential python3-venv graphviz chromium dataset-fashion-mnist

.PHONY: demo test test-fast test-long system-deps venv clean

demo: system-deps venv
	$(VENV)/bin/hwgen build configs/mnist-small.yaml --out build/mnist-small

test: system-deps venv
	$(PY) -m pytest -q -ra

# The suite without the tests marked slow (complete builds, routed designs, bigger simulations).
test-fast: system-deps venv
	$(PY) -m pytest -q -ra -m "not slow"

# Many more generated netlists through the property tests (random seeds, minutes).
test-long: system-deps venv
	HWGEN_LONG_PROPERTIES=1 $(PY) -m pytest -q tests/test_properties.py

# Icarus (simulation), ABC (equivalence proofs), a C/C++ toolchain (Verilator builds, the kernels), venv
# support, graphviz (circuit drawings) and Chromium (the test that renders report.html).
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

venv: $(VENV)/.installed

# torch 2.13.0 as a CPU wheel first: the package accepts any torch it runs on, and an unpinned torch from
# PyPI pulls several GB of CUDA libraries.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $@

clean:
	rm -rf build sim_build
