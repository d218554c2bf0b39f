# Conveniences for developers; the README's two commands need only Python.
PY := .venv/bin/python

.PHONY: serve test proto proto-check proto-baseline lint
serve:
	python3 scripts/dev.py serve
test:
	python3 scripts/dev.py test
proto:            ## regenerate gateway/_proto from protos/
	$(PY) scripts/genproto.py
proto-check:      ## generated code up to date, buf lint, buf breaking against the baseline
	$(PY) scripts/genproto.py --check
	cd protos && ../.venv/bin/buf lint
	.venv/bin/buf breaking protos --against protos/baseline.json
proto-baseline:   ## accept a deliberate breaking change: the protos as they are become the baseline
	.venv/bin/buf build protos --exclude-source-info -o protos/baseline.json
