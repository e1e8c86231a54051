# Two commands on a fresh machine:  `make repro` (set up + run the embedded pipeline)
# and `make test` (set up + run the tests). Everything installs from requirements.lock.
PY := .venv/bin/python
export PATH := $(CURDIR)/.venv/bin:$(PATH)
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup lock tex slurm repro test test-fast validate use-paper lab bench clean study verify publish-reference rehearse rehearse-scale

setup: .venv/.installed tex slurm

tex:  # latexmk + pdflatex for the report stage (Debian/Ubuntu packages; a no-op when present)
	@tools/install_tex.sh

slurm:  # slurm-wlm, munge, slurmdbd + mariadb-server for the SLURM backend's tests (tests/cluster; a no-op when present)
	@tools/install_slurm.sh

.venv/.installed: requirements.lock pyproject.toml
	python3 -m venv .venv
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name xstilts --display-name "Python (xstilts)"  # the notebooks' kernel (dvc.yaml: papermill -k xstilts)
	touch $@

# The two hash-checked locks from pyproject.toml (all extras), keeping the versions already locked
# (uv prefers an output file's pins): requirements.lock for this CPU machine (Python 3.11.7, the CPU
# torch wheel in /opt/wheels, pip's find-links), requirements-cuda.lock for the Dockerfile (Ubuntu
# 24.04's Python 3.12, PyPI's CUDA torch and its nvidia-* wheels), constrained to the CPU lock's
# other pins. `pip install uv` if it is missing.
UV ?= uv
LOCK_FLAGS := pyproject.toml --extra test --extra lab --generate-hashes --python-platform x86_64-manylinux_2_28 --no-header
lock:
	$(UV) pip compile --quiet $(LOCK_FLAGS) --python-version 3.11.7 --find-links /opt/wheels --upgrade-package torch --no-emit-find-links -o requirements.lock
	sed -n 's/^\([A-Za-z0-9._-]*==[^ ]*\).*/\1/p' requirements.lock | grep -v '^torch==' > .lock-constraints.txt
	$(UV) pip compile --quiet $(LOCK_FLAGS) --python-version 3.12.3 --no-emit-find-links -c .lock-constraints.txt -o requirements-cuda.lock
	rm -f .lock-constraints.txt

validate: setup
	$(PY) -m xstilts.cli validate params.yaml

repro: setup validate
	@test -e .git || (echo "dvc needs a git checkout"; exit 1)
	.venv/bin/dvc repro

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

use-paper: setup  # copy the paper profile, then list what it needs; fails only while a hand-supplied input is missing (README "Preflight")
	$(PY) -m xstilts.cli use-profile configs/paper.yaml
	$(PY) -m xstilts.cli preflight params.yaml

STAGES ?=
rehearse: setup  # the paper profile offline on CPU: every stage, in a temporary git copy (README "Rehearsing the paper profile")
	@test -d .git || test -f .git || (echo "the rehearsal copies a git checkout"; exit 1)
	nice $(PY) -m xstilts.rehearsal.runner $(STAGES)

STUDY ?= rq1
JOBS ?= 1
BACKEND ?= queue
study: setup  # a follow-up study (configs/studies/): make study STUDY=rq4 JOBS=2 (DVC queue), BACKEND=local|slurm (README "Follow-up questions")
	@test -e .git || (echo "dvc needs a git checkout"; exit 1)
	$(PY) -m xstilts.cli study run $(STUDY) --backend $(BACKEND) $(if $(filter queue,$(BACKEND)),-j $(JOBS))

verify: .venv/.installed  # the reference run's claims, offline and without training (docs/artifacts.md)
	$(PY) tools/reference.py verify

publish-reference: .venv/.installed  # maintainer, after the final `make repro`: reference/ <- its verification outputs
	$(PY) tools/reference.py publish

lab: setup  # the stage notebooks on the package's kernel; executed copies are in outputs/notebooks/
	.venv/bin/jupyter lab --ServerApp.root_dir=. --FileContentsManager.preferred_dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

bench: setup
	$(PY) benchmarks/qa_featurization.py

clean:
	rm -rf outputs data/embedded

FRACTION ?= 1
rehearse-scale: setup  # the rehearsal at the real datasets' sizes (PAPER_SIZES x FRACTION): rows, wall, peak RSS, disk per stage (README "Rehearsing at the real sizes")
	@test -d .git || test -f .git || (echo "the rehearsal copies a git checkout"; exit 1)
	nice $(PY) -m xstilts.rehearsal.runner --fraction $(FRACTION) $(STAGES)
