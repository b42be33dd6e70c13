# Developer commands. Each one creates .venv on first use (see scripts/bootstrap.py).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV_BIN := .venv/bin

.DEFAULT_GOAL := help
.PHONY: help venv run test lint flower

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

venv: ## Create .venv and install the project with its dev extra
	@$(PYTHON) scripts/bootstrap.py

run: ## Run the app, worker, beat and Ashby sandbox on 127.0.0.1 (Ctrl-C stops all)
	@$(PYTHON) scripts/run_dev.py

test: ## Run pytest against a throwaway PostgreSQL and Redis; pass options with ARGS="-k name"
	@$(PYTHON) scripts/run_tests.py $(ARGS)

lint: venv ## Check the code with ruff
	$(VENV_BIN)/ruff check .

flower: ## Run Flower on 127.0.0.1:5555; needs FLOWER_BASIC_AUTH=user:password
	@$(PYTHON) scripts/run_flower.py
