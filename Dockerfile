# xstilts: a pinned CUDA runtime with the locked Python dependencies and a registered kernel.
# Build:  docker build -t xstilts .
# Run:    docker run --gpus all -v "$PWD:/workspace/xstilts" xstilts            (dvc repro)
#         docker run --gpus all -p 8888:8888 xstilts jupyter lab --ip 0.0.0.0 --allow-root
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

ENV DEBIAN_FRONTEND=noninteractive \
    PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# Ubuntu's security updates move these versions; the Python stack below is what is pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv python3-dev build-essential git \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /workspace/xstilts

# LaTeX for the report stage (paper/report.pdf): latexmk + pdflatex from Ubuntu's TeX Live.
COPY tools/install_tex.sh /tmp/install_tex.sh
RUN /tmp/install_tex.sh && rm -rf /var/lib/apt/lists/* /tmp/install_tex.sh

# The container's lock (README "Dependencies", `make lock`): the same pins as requirements.lock for
# Ubuntu 24.04's Python 3.12, with PyPI's CUDA torch and its nvidia-* wheels; every file hash-checked.
COPY requirements-cuda.lock pyproject.toml README.md ./
COPY xstilts ./xstilts
RUN python3 -m venv /opt/venv \
    && pip install --require-hashes -r requirements-cuda.lock \
    && pip install --no-deps -e . \
    && python -m ipykernel install --sys-prefix --name xstilts --display-name "Python (xstilts)"

COPY . .

CMD ["dvc", "repro"]
