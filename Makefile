# Two commands: `make demo` runs the system, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Front-end libraries from npm (package-lock.json), served by collectstatic from here
NODE_STAMP := node_modules/.installed-stamp
CHROMIUM := /usr/lib/chromium/chromium
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint bench browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# `npm ci` again whenever the lock file changes; Leaflet is a peer dependency that
# django-leaflet already provides, so peers are not installed.
$(NODE_STAMP): package-lock.json
	npm ci --omit=peer --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

demo: $(STAMP) $(NODE_STAMP)
	$(BIN)/wangge setup
	$(BIN)/wangge demo load --if-empty
	$(BIN)/wangge subscriptions add --name demo-log --topic '*' --kind log --if-missing
	@echo
	@echo "  wangge console: http://$(HOST):$(PORT)/"
	@$(BIN)/wangge demo logins
	@echo
	@# The worker (docs/worker.md) and the simulated 12345 and 数字城管 (docs/simulators.md;
	@# the demo's adapters point at them) run beside the web server and stop when it does.
	$(BIN)/wangge worker & worker=$$!; \
	$(BIN)/wangge simulate hotline-12345 --port 8611 \
		--callback-url http://$(HOST):$(PORT)/integration/systems/hotline_12345 & hotline=$$!; \
	$(BIN)/wangge simulate city-management --port 8612 \
		--callback-url http://$(HOST):$(PORT)/integration/systems/city_management & city=$$!; \
	trap 'kill $$worker $$hotline $$city 2>/dev/null; wait $$worker $$hotline $$city' EXIT; \
	trap 'exit 130' INT TERM; \
	$(BIN)/wangge serve --host $(HOST) --port $(PORT)

# Browser tests drive Debian's Chromium; install it when we can (root + apt), else the
# browser tests say they were skipped and why. With a CJK font, as every phone in China has,
# the pages are measured with real glyph widths and the screenshots can be read.
browser:
	@if { [ ! -x $(CHROMIUM) ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; } \
		&& [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium and a Chinese font for the browser tests"; \
		apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

test: $(STAMP) $(NODE_STAMP) browser
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

# All benchmarks, each printing its own figures beside its baseline (PostGIS, COPY);
# about 12 minutes on a 2-core machine. See benchmarks/README.md for quicker options.
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/registry.py
	$(BIN)/python benchmarks/fieldwork.py

clean:
	rm -rf $(VENV) var node_modules
