#!/usr/bin/env bash
# Installs what `xstilts.report` needs to build paper/report.pdf: latexmk + pdflatex from the
# Debian/Ubuntu TeX Live packages (about 55 MB download, 170 MB installed, under a minute on
# Debian bookworm). Idempotent: does nothing when latexmk and pdflatex are already on PATH.
# Usage: tools/install_tex.sh            (as root, or with sudo available)
set -euo pipefail

PACKAGES=(latexmk texlive-latex-base texlive-latex-recommended texlive-fonts-recommended)

if command -v latexmk >/dev/null 2>&1 && command -v pdflatex >/dev/null 2>&1; then
    echo "latexmk and pdflatex already installed"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: apt-get not found. Install latexmk and a LaTeX distribution with pdflatex" >&2
    echo "(packages: ${PACKAGES[*]}; macOS: MacTeX or 'brew install --cask basictex')," >&2
    echo "or build only the .tex files: python -m xstilts.report --no-pdf" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "error: run as root or install sudo" >&2; exit 1; }
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
latexmk -v | head -n 1
