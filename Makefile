# repro — set-up and entry points.
#
#   make demo    bootstrap, then check repro_examples/$(DEMO_BUNDLE) into $(DEMO_OUT)/
#   make test    bootstrap, then run pytest (extra arguments: PYTEST_ARGS="-k foo -x")
#   make bootstrap   Debian packages + .venv + editable install (idempotent, fast when done)
#
# PYTHON=/path/to/python3.12 chooses the interpreter for a new .venv.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
STAMP       := $(VENV)/.bootstrapped
DEMO_BUNDLE ?= xtreme-mean-gain
DEMO_OUT    ?= demo-out
PYTEST_ARGS ?=

# The stamp means nothing once the venv's interpreter is gone (for example the
# pyenv version it was built on was removed): drop it so bootstrap runs again.
ifneq ($(shell test -x $(VENV)/bin/python || echo gone),)
$(shell rm -f $(STAMP))
endif

.PHONY: help bootstrap system-deps demo test clean distclean

help:
	@echo "make demo        set up, then: repro check repro_examples/$(DEMO_BUNDLE) --out $(DEMO_OUT)"
	@echo "make test        set up, then: python -m pytest \$$PYTEST_ARGS"
	@echo "make bootstrap   set up only (Debian packages, .venv, editable install)"
	@echo "make clean       remove outputs and caches; make distclean also removes .venv"

bootstrap: system-deps $(STAMP)

# Always re-checked; costs one `dpkg -s` per package when nothing is missing.
system-deps:
	@scripts/bootstrap.sh --system-only

# Order-only on system-deps so that apt-get never runs twice at once under -j.
$(STAMP): pyproject.toml scripts/bootstrap.sh scripts/find-python.sh | system-deps
	@scripts/bootstrap.sh

demo: bootstrap
	@test -e repro_examples/$(DEMO_BUNDLE) || { \
	  echo "make demo: no bundle repro_examples/$(DEMO_BUNDLE); available:" \
	       "$$(ls repro_examples 2>/dev/null | tr '\n' ' ')" >&2; exit 2; }
	$(VENV)/bin/repro check repro_examples/$(DEMO_BUNDLE) --out $(DEMO_OUT)

# pytest exits 5 when it collected no tests; that must never pass as success.
test: bootstrap
	@rc=0; $(VENV)/bin/python -m pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then \
	  echo "make test: FAILED: pytest collected no tests (exit 5) — check tests/ and PYTEST_ARGS" >&2; \
	fi; \
	exit $$rc

clean:
	rm -rf $(DEMO_OUT) repro-out .pytest_cache build *.egg-info
	find harness tests -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true

distclean: clean
	rm -rf $(VENV)
