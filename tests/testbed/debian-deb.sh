#!/usr/bin/env bash
# Unpacks one package of another Debian release into a directory, on a
# machine whose own apt sources are the release it runs: the test bed takes
# the compose v2 plugin from Debian 13 (trixie) and a restic with the fix
# regie needs (see build-images.sh) from Debian's testing release.
#   debian-deb.sh SUITE PACKAGE=VERSION DEST   -> DEST holds the package's files
# The version is pinned: a release that moves on fails here, loudly, rather
# than changing what the tests run. Package lists and .deb files are kept
# under $REGIE_DEB_CACHE (default /tmp/regie-debs) so a second call fetches
# nothing.
set -euo pipefail
suite=$1 pkgver=$2 dest=$3
pkg=${pkgver%%=*} ver=${pkgver#*=}
mirror=${REGIE_DEBIAN_MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
mirror=${mirror:-http://deb.debian.org/debian}
cache=${REGIE_DEB_CACHE:-/tmp/regie-debs}/$suite
mkdir -p "$cache/lists/partial" "$cache/cache/archives/partial" "$cache/debs"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" >"$cache/sources.list"
apt_opts=(-o "Dir::Etc::sourcelist=$cache/sources.list" -o Dir::Etc::sourceparts=-
  -o "Dir::State::Lists=$cache/lists" -o "Dir::Cache=$cache/cache"
  -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)
deb=$(ls "$cache/debs/${pkg}_${ver//:/%3a}"_*.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
  apt-get "${apt_opts[@]}" update -qq
  (cd "$cache/debs" && apt-get "${apt_opts[@]}" download -qq "$pkg=$ver")
  deb=$(ls "$cache/debs/${pkg}_${ver//:/%3a}"_*.deb | head -1)
fi
mkdir -p "$dest"
dpkg-deb -x "$deb" "$dest"
