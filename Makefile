# One entry for set-up, tests and the demo (the README shows the same commands).
PY := .venv/bin/python

.PHONY: setup setup-postgres lint test test-all demo bench numbers
setup:
	bash scripts/setup_env.sh
setup-postgres:
	bash scripts/setup_postgres.sh
lint:
	.venv/bin/ruff check .
test:
	$(PY) -m pytest
test-all:
	$(PY) -m pytest -m "slow or not slow"
demo:
	$(PY) pipelines/run.py pipelines/rgb_to_action.yaml
bench:
	$(PY) benchmarks/render_fps.py
numbers:
	$(PY) benchmarks/default_pipeline.py --retrain
	$(PY) benchmarks/embed_results.py
