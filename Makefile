# Conveniences for developers; the README's two commands need only Python.
PY := .venv/bin/python

.PHONY: serve test proto proto-check lint
serve:
	python3 scripts/dev.py serve
test:
	python3 scripts/dev.py test
proto:            ## regenerate gateway/_proto from protos/
	$(PY) scripts/genproto.py
proto-check:      ## generated code up to date, buf lint, buf breaking against main
	$(PY) scripts/genproto.py --check
	cd protos && ../.venv/bin/buf lint
	.venv/bin/buf breaking protos --against '.git#branch=main,subdir=protos'
