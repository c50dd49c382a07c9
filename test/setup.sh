#!/usr/bin/env bash
# npm run setup:test: everything the tests need on a fresh Debian/Ubuntu machine, the way
# `npx playwright install --with-deps` does it for Playwright. The tests drive real programs, so:
#   1. the Debian packages of the BitTorrent clients and tools the tests run (apt-get as root, or
#      through `sudo -n`; otherwise it prints the exact command and stops);
#   2. the npm packages from the lock file (`npm ci`), unless node_modules already matches it.
# It changes nothing when all of that is already in place, so `npm run setup:test && npm test`
# is cheap to repeat.
set -euo pipefail
cd "$(dirname "$0")/.."

# package: what needs it
PACKAGES=(
  mktorrent            # create: info-hashes compared with mktorrent's
  transmission-cli     # transmission-show / transmission-remote
  transmission-daemon  # a real Transmission server
  aria2                # aria2c: downloads, web seed, the fleet
  qbittorrent-nox      # qBittorrent subscribed by RSS
  rtorrent             # rTorrent: the fleet's client that never announces "completed"
  chromium             # the dashboard driven by playwright-core
  gcc                  # the optional native SHA-1 kernel (npm run build)
  util-linux           # setpriv: the unreadable-file test drops root's capabilities
  iproute2             # ip, tc: the namespace LAN of the fleet test
  iptables             # the fleet-view test's firewalled host (announces dropped)
  curl                 # the "subscribe your servers" setups run as a server would run them
  systemd              # systemd-analyze, systemd-sysusers: the unit of "swarmdrop service install"
  opentracker          # the external tracker of a fleet (whitelist mode), and the tracker bench
)

say() { printf 'setup:test: %s\n' "$*"; }

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  say "this is not a Debian/Ubuntu machine (no dpkg/apt-get)."
  say "install these programs with your package manager, then run npm test: ${PACKAGES[*]}"
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}")
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    say "the tests need these Debian packages, and installing them needs root: ${missing[*]}"
    say "run this, then run the tests again:"
    printf '\n  sudo apt-get update && sudo apt-get install -y %s\n\n' "${missing[*]}"
    exit 1
  fi
  say "installing ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  "${sudo[@]}" "${install[@]}" >/dev/null
  say "installed."
else
  say "Debian packages present."
fi

# npm keeps a copy of the lock it installed from; when it is newer than both manifests,
# node_modules is what `npm ci` would produce.
hidden=node_modules/.package-lock.json
if [ -f "$hidden" ] && [ "$hidden" -nt package-lock.json ] && [ "$hidden" -nt package.json ]; then
  say "node_modules matches package-lock.json."
else
  say "npm ci"
  npm ci --no-fund --no-audit
fi
