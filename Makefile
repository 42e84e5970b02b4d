# Plume — two commands on a fresh Debian machine:
#   make run    set everything up and serve the add-in and the API on https://localhost:3000
#   make test   install what the tests need and run the whole suite
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# Debian packages the tests use: Chromium (and an emoji font, for the 👍/👎 buttons in the
# screenshots) for the task-pane tests, nginx for `nginx -t`, systemd for `systemd-analyze verify`,
# espeak-ng and sox for the French speech the transcription tests and bench make, LibreOffice
# (headless) to read back the dossier's .docx export.
TEST_DEBS := chromium fonts-noto-color-emoji nginx systemd espeak-ng sox libreoffice-writer-nogui
# Debian packages Plume itself runs with: Tesseract and its French data read scanned pages of a
# dossier; poppler's pdftoppm renders them for it.
RUN_DEBS := tesseract-ocr tesseract-ocr-fra poppler-utils

.PHONY: run test manifests venv vendor system-deps run-deps clean help

help:
	@echo "make run   - serve Plume on https://localhost:$${PORT:-3000} (embedded database and sample corpus)"
	@echo "make test  - run the whole test suite"
	@echo "make manifests - Word and Outlook manifests for the local instance, in var/manifests/"

$(VENV)/.installed: requirements.txt requirements-nodeps.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	$(PIP) install --quiet --no-deps -r requirements-nodeps.txt
	touch $@

venv: $(VENV)/.installed

# Browser libraries Plume serves itself at /addin/vendor/ (never a CDN): installed from npm
# (package.json pins them) and copied into the git-ignored addin/vendor/.
VENDOR := addin/vendor
$(VENDOR)/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "Installing npm (Debian)"; SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null; }
	npm install --no-audit --no-fund --silent
	mkdir -p $(VENDOR)/chart.js
	cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/LICENSE.md $(VENDOR)/chart.js/
	cp node_modules/@azure/msal-browser/lib/msal-browser.min.js $(VENDOR)/
	cp node_modules/@azure/msal-browser/LICENSE $(VENDOR)/msal-browser.LICENSE.txt
	cp node_modules/axe-core/axe.min.js $(VENDOR)/
	cp node_modules/diff/dist/diff.min.js $(VENDOR)/ && cp node_modules/diff/LICENSE $(VENDOR)/diff.LICENSE.txt
	touch $@

# MSAL's redirect bridge (addin/common/signin-redirect.html), its own rule so that a machine
# vendored before it existed gets it without reinstalling.
$(VENDOR)/msal-redirect-bridge.min.js: $(VENDOR)/.installed
	cp node_modules/@azure/msal-browser/lib/redirect-bridge/msal-redirect-bridge.min.js $@

vendor: $(VENDOR)/.installed $(VENDOR)/msal-redirect-bridge.min.js

# Installs the Debian packages named in DEBS that are missing (sudo when not root).
define install_debs
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

run-deps:
	$(call install_debs,$(RUN_DEBS))

system-deps:
	$(call install_debs,$(RUN_DEBS) $(TEST_DEBS))

run: venv vendor run-deps
	PLUME_ENV=$${PLUME_ENV:-development} $(PY) -m backend serve

# Manifests for sideloading against `make run` (docs/admin-guide.md, "Sideloading for testers").
manifests: venv
	PLUME_ENV=$${PLUME_ENV:-development} $(PY) -m backend manifest --out var/manifests

test: venv vendor system-deps
	$(PY) -m pytest -q -p no:cacheprovider tests

clean:
	rm -rf $(VENV) var tests/output
