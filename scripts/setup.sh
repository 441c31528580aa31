#!/usr/bin/env bash
# Install what podnet's lab, tests and demo need on a fresh Debian machine with Node.js 20, then build.
# Idempotent and quick when everything is already there: apt-get runs only for missing packages,
# npm ci only when the lockfile changed, the build only when sources changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(openssh-server openssh-client containernetworking-plugins iproute2 iptables util-linux procps iputils-ping python3 python3-pyflakes shellcheck socat kmod sudo time containerd runc busybox-static nftables)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# kubectl, for the lab tests of the stand-in API (lab up --api): any kubectl on PATH will do. The apt
# package is "kubectl" in Debian 13 and in the Kubernetes project's and Google's apt repositories.
command -v kubectl >/dev/null 2>&1 || missing+=(kubectl)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "setup: need root to install ${missing[*]} (run with sudo)" >&2; exit 2; fi
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  # Never let the package scripts start a host sshd: the lab runs its own, inside namespaces.
  policy_added=
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; policy_added=1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if [[ " ${missing[*]} " == *" kubectl "* ]] && ! apt-cache show kubectl >/dev/null 2>&1; then
    echo "setup: no apt source has kubectl; install it (https://kubernetes.io/docs/tasks/tools/) for test/lab/lab-api.test.ts" >&2
    keep=()
    for p in "${missing[@]}"; do [ "$p" = kubectl ] || keep+=("$p"); done
    missing=("${keep[@]}")
  fi
  [ ${#missing[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -n "$policy_added" ] && rm -f /usr/sbin/policy-rc.d
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies from the lockfile" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ ! -f dist/.build-stamp ] || [ -n "$(find src package.json tsconfig.json tsconfig.build.json scripts/generate.js scripts/assets.js -newer dist/.build-stamp -print -quit 2>/dev/null)" ]; then
  echo "setup: building" >&2
  npm run --silent build
  touch dist/.build-stamp
fi
