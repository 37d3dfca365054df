#!/usr/bin/env bash
# Installs Debian's openssh-server when sshd is missing and this machine can install it: the teamwork
# tests start a real sshd on 127.0.0.1 (as a child process with its own config; no system service is
# enabled or started here) to push and pull through an SSH remote. Elsewhere that one test is skipped.
set -euo pipefail
if command -v sshd >/dev/null || [ -x /usr/sbin/sshd ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian package openssh-server (for the SSH-remote test) ..."
  apt-get update -qq
  # A policy-rc.d answering 101 keeps the package from starting the system's sshd service.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null
else
  echo "note: sshd is missing and apt-get is not usable here; the SSH-remote test will be skipped."
fi
