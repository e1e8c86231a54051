#!/usr/bin/env bash
# Installs what tests/cluster needs to start a one-node SLURM (slurmctld + slurmd on localhost,
# munge authentication, job accounting for sacct through slurmdbd on a private MariaDB): Debian/Ubuntu's
# slurm-wlm, munge, slurmdbd and mariadb-server (about 150 MB). Idempotent: does
# nothing when the binaries are already on PATH; without apt-get or root it only says why, since the
# SLURM tests then skip with the same reason (they are not needed to run the pipeline).
# Usage: tools/install_slurm.sh            (as root, or with sudo available)
set -uo pipefail

PACKAGES=(slurm-wlm munge slurmdbd mariadb-server)

if command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 && command -v munged >/dev/null 2>&1 \
   && command -v slurmdbd >/dev/null 2>&1 && command -v mariadbd >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "note: apt-get not found: install ${PACKAGES[*]} to run the SLURM tests (tests/cluster skip them)" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "note: not root and no sudo: the SLURM tests (tests/cluster) will skip" >&2
        exit 0
    fi
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
slurmctld -V
