#!/usr/bin/env bash
# Builds the test bed's images locally (no registry is reachable):
#   regie-testhost:3  Debian bookworm with OpenSSH server, docker CLI,
#                     docker-compose, restic, PostgreSQL 15 and
#                     unattended-upgrades; a fresh SSH host key per
#                     container. Also serves as the NAS (SFTP).
#   regie-testhost:4  regie-testhost:3 with Debian trixie's compose v2 plugin
#                     (2.26; `docker compose`) beside compose v1 (1.29): the
#                     hosts of the e2e tests. A host started with
#                     REGIE_TESTHOST_COMPOSE=v1 removes the plugin at start.
#   regie-restic:3    the same root file system with restic 0.19.1 (Debian
#                     testing's) as entrypoint, standing in for the
#                     restic/restic image regie pins by default (0.19.1).
#                     Not trixie's 0.18.0: it cannot store a dump under a
#                     directory (`--stdin-filename dumps/x`, restic #5324,
#                     fixed in 0.18.1, which no Debian release carries).
#   regie-restic:1    the same with bookworm's restic 0.14: repositories made
#                     by an older restic must stay readable.
#   regie-nas:1       regie-restic:3 with Debian bookworm's rclone (1.60) and
#                     sshd as command: the NAS of the backup tests. The hosts'
#                     key is forced to `rclone serve restic --stdio
#                     --append-only`; regie's own access runs restic there for
#                     retention.
#   regie-caddy:1     Debian bookworm's Caddy 2.6, laid out as the upstream
#                     caddy image (the proxy stack's e2e test).
#   regie-postgres:2  the same with an entrypoint that behaves like the
#                     postgres image's (POSTGRES_USER/PASSWORD/DB, PGDATA,
#                     a socket-only server for the first start's init).
#   regie-postgres-next:2  Debian trixie's PostgreSQL 17 with the same
#                     entrypoint: a second major for the upgrade tests
#                     (regie-postgres-next:1 is its base).
#   regie-busybox:1   FROM-scratch image holding a static busybox, for the
#                     small web stacks deployed in tests.
#   regie-pushed:1    regie-busybox:1 under another name, and regie-pushed:2
#                     the same plus one layer (/www/version): images regie
#                     pushes over SSH (`images: push`), a new tag sharing its
#                     base layer.
#   regie-pushed-big:1  regie-busybox:1 plus a 128 MiB layer of random bytes:
#                     a transfer long enough to be cut.
# Idempotent: an image that exists is kept. Needs root, debootstrap and a
# Debian mirror (the machine's apt source).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mirror=${REGIE_DEBIAN_MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
mirror=${mirror:-http://deb.debian.org/debian}
work=$(mktemp -d /tmp/regie-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

if ! docker image inspect regie-testhost:3 >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || { apt-get update -qq; apt-get install -y -qq debootstrap >/dev/null; }
  echo "building regie-testhost:3 (debootstrap from $mirror)" >&2
  debootstrap --variant=minbase \
    --include=openssh-server,docker.io,docker-compose,sudo,ca-certificates,tar,procps,restic,postgresql,cron,unattended-upgrades \
    bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -f "$work"/rootfs/etc/ssh/ssh_host_*
  install -m 0755 "$here/testhost-entrypoint.sh" "$work/rootfs/usr/local/sbin/regie-testhost"
  install -m 0755 "$here/postgres-entrypoint.sh" "$work/rootfs/usr/local/sbin/regie-postgres"
  # A non-root deploy user who needs sudo for docker.
  chroot "$work/rootfs" useradd -m -s /bin/bash deploy
  echo 'deploy ALL=(ALL) NOPASSWD: ALL' >"$work/rootfs/etc/sudoers.d/deploy"
  chmod 0440 "$work/rootfs/etc/sudoers.d/deploy"
  rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
  tar -C "$work/rootfs" -c . | docker import \
    --change 'CMD ["/usr/local/sbin/regie-testhost"]' - regie-testhost:3 >/dev/null
fi

# A second PostgreSQL major for the major-upgrade tests: Debian trixie's
# PostgreSQL 17 with the same entrypoint (bookworm's is 15).
if ! docker image inspect regie-postgres-next:1 >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || { apt-get update -qq; apt-get install -y -qq debootstrap >/dev/null; }
  echo "building regie-postgres-next:1 (debootstrap trixie from $mirror)" >&2
  debootstrap --variant=minbase --include=postgresql-17 \
    trixie "$work/pgnext" "$mirror" >"$work/debootstrap-pgnext.log" 2>&1 \
    || { tail -20 "$work/debootstrap-pgnext.log" >&2; exit 1; }
  install -m 0755 "$here/postgres-entrypoint.sh" "$work/pgnext/usr/local/sbin/regie-postgres"
  rm -rf "$work"/pgnext/var/cache/apt/archives/*.deb "$work"/pgnext/var/lib/apt/lists/*
  tar -C "$work/pgnext" -c . | docker import \
    --change 'ENTRYPOINT ["/usr/local/sbin/regie-postgres"]' - regie-postgres-next:1 >/dev/null
fi

# Derived images: one container committed with another entrypoint (no
# registry, no build context needed).
derive() { # name entrypoint-json
  if ! docker image inspect "$1" >/dev/null 2>&1; then
    echo "building $1" >&2
    cid=$(docker create regie-testhost:3 true)
    docker commit --change "ENTRYPOINT $2" --change 'CMD []' "$cid" "$1" >/dev/null
    docker rm "$cid" >/dev/null
  fi
}
derive regie-restic:1 '["/usr/bin/restic"]'

# Images with one file of another Debian release's package added
# (debian-deb.sh), at the package's own path.
with_deb_file() { # name base suite package=version path entrypoint-json cmd-json
  if ! docker image inspect "$1" >/dev/null 2>&1; then
    echo "building $1 ($4 from $3)" >&2
    bash "$here/debian-deb.sh" "$3" "$4" "$work/$1"
    cid=$(docker create "$2" true)
    tar -C "$work/$1" -c ".$5" | docker cp - "$cid:/" >/dev/null
    docker commit --change "ENTRYPOINT $6" --change "CMD $7" "$cid" "$1" >/dev/null
    docker rm "$cid" >/dev/null
  fi
}
with_deb_file regie-testhost:4 regie-testhost:3 trixie docker-compose=2.26.1-4 \
  /usr/libexec/docker/cli-plugins/docker-compose '[]' '["/usr/local/sbin/regie-testhost"]'
with_deb_file regie-restic:3 regie-testhost:3 forky restic=0.19.1-1 \
  /usr/bin/restic '["/usr/bin/restic"]' '[]'
with_deb_file regie-nas:1 regie-restic:3 bookworm rclone=1.60.1+dfsg-2+b5 \
  /usr/bin/rclone '["/usr/local/sbin/regie-testhost"]' '[]'

# PostgreSQL stand-ins: a base image with this tree's entrypoint copied in.
with_pg_entrypoint() { # name base
  if ! docker image inspect "$1" >/dev/null 2>&1; then
    echo "building $1" >&2
    cid=$(docker create "$2" true)
    docker cp "$here/postgres-entrypoint.sh" "$cid:/usr/local/sbin/regie-postgres" >/dev/null
    docker commit --change 'ENTRYPOINT ["/usr/local/sbin/regie-postgres"]' --change 'CMD []' "$cid" "$1" >/dev/null
    docker rm "$cid" >/dev/null
  fi
}
with_pg_entrypoint regie-postgres:2 regie-testhost:3
with_pg_entrypoint regie-postgres-next:2 regie-postgres-next:1

if ! docker image inspect regie-busybox:1 >/dev/null 2>&1; then
  echo "building regie-busybox:1" >&2
  (cd "$work" && apt-get download busybox-static >/dev/null 2>&1) || { apt-get update -qq; (cd "$work" && apt-get download busybox-static >/dev/null); }
  dpkg -x "$work"/busybox-static_*.deb "$work/bb"
  mkdir -p "$work/bbroot/bin" "$work/bbroot/www" "$work/bbroot/tmp"
  cp "$work/bb/bin/busybox" "$work/bbroot/bin/busybox"
  for a in sh httpd wget cat echo sleep ls test mkdir cp rm; do ln -s busybox "$work/bbroot/bin/$a"; done
  tar -C "$work/bbroot" -c . | docker import \
    --change 'CMD ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]' - regie-busybox:1 >/dev/null
fi

# Images pushed over SSH: a new tag that adds one layer, and a big one.
commit_on() { # NAME BASE SCRIPT: run SCRIPT in BASE, commit as NAME with BASE's command
  if ! docker image inspect "$1" >/dev/null 2>&1; then
    echo "building $1" >&2
    cid=$(docker create "$2" /bin/busybox sh -c "$3")
    docker start -a "$cid" >/dev/null
    docker commit --change 'CMD ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]' "$cid" "$1" >/dev/null
    docker rm "$cid" >/dev/null
  fi
}
docker image inspect regie-pushed:1 >/dev/null 2>&1 || docker tag regie-busybox:1 regie-pushed:1
commit_on regie-pushed:2 regie-pushed:1 'echo 2 > /www/version'
commit_on regie-pushed-big:1 regie-busybox:1 '/bin/busybox head -c 134217728 /dev/urandom > /big'

# regie-caddy:1  Debian bookworm's caddy package (2.6) laid out as the
# upstream caddy image is (caddyserver/caddy-docker): the Caddyfile at
# /etc/caddy/Caddyfile, XDG_DATA_HOME=/data (certificates, the internal CA),
# XDG_CONFIG_HOME=/config, working directory /srv, the same command. wget
# for the proxy template's health check; curl for the HTTPS client.
if ! docker image inspect regie-caddy:1 >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || { apt-get update -qq; apt-get install -y -qq debootstrap >/dev/null; }
  echo "building regie-caddy:1 (debootstrap bookworm with caddy from $mirror)" >&2
  debootstrap --variant=minbase --include=caddy,wget,curl,ca-certificates \
    bookworm "$work/caddy" "$mirror" >"$work/debootstrap-caddy.log" 2>&1 \
    || { tail -20 "$work/debootstrap-caddy.log" >&2; exit 1; }
  mkdir -p "$work/caddy/data/caddy" "$work/caddy/config/caddy" "$work/caddy/srv"
  rm -rf "$work"/caddy/var/cache/apt/archives/*.deb "$work"/caddy/var/lib/apt/lists/*
  tar -C "$work/caddy" -c . | docker import \
    --change 'ENV XDG_CONFIG_HOME=/config' --change 'ENV XDG_DATA_HOME=/data' \
    --change 'WORKDIR /srv' \
    --change 'CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]' \
    - regie-caddy:1 >/dev/null
fi
