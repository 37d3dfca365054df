#!/usr/bin/env bash
# Installs Debian's dataset-fashion-mnist package (the download stage's first mirror) when it is
# missing and this machine can install it; elsewhere the download stage falls back to the URLs.
set -euo pipefail
mirror=/usr/share/datasets/fashion-mnist
if [ -f "$mirror/train-images-idx3-ubyte.gz" ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian package dataset-fashion-mnist (offline copy of the dataset) ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null
else
  echo "note: $mirror is missing and apt-get is not usable here; the download stage will use the URLs in params.yaml."
fi
