#!/usr/bin/env bash
# A second Postgres cluster, on port 5433, whose data sits on an ext4 file system mounted without
# `discard`, for `npm run bench:retention` (DATABASE_URL=postgres://postgres@127.0.0.1:5433/test).
#
# Why: this machine's root file system is mounted with `discard`, so every file deleted is
# trimmed on the virtual disk at once: `rm` of an 800 MB file takes 0.24 s there, 0.01 s on a
# loop-mounted ext4 without it. Dropping a week of the webhook log frees ~0.8 GB, and the acks'
# WAL fsyncs wait behind that trim. Without `discard` (trimming with a periodic fstrim instead,
# as ext4's own documentation advises), the same drop no longer lifts the ack latency.
#
# Needs root (a loop device and a mount). Usage: bench/postgres-without-discard.sh start|stop
set -euo pipefail

IMAGE=${IMAGE:-/var/tmp/plugboard-nodiscard.img}
MOUNT=${MOUNT:-/mnt/plugboard-nodiscard}
VERSION=$(ls /etc/postgresql | sort -n | tail -1)
CLUSTER=nodiscard
PORT=5433

case "${1:-}" in
start)
  if ! mountpoint -q "$MOUNT"; then
    [ -e "$IMAGE" ] || { truncate -s 16G "$IMAGE" && mkfs.ext4 -q -F "$IMAGE"; }
    mkdir -p "$MOUNT"
    mount -o loop,nodiscard "$IMAGE" "$MOUNT"
  fi
  if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$VERSION $CLUSTER"; then
    install -d -o postgres -g postgres "$MOUNT/pg"
    pg_createcluster "$VERSION" "$CLUSTER" -d "$MOUNT/pg/data" -p "$PORT" -- --auth=trust >/dev/null
    # As the machine's own cluster is set: autovacuum off (the bench vacuums itself).
    echo "autovacuum = off" >>"/etc/postgresql/$VERSION/$CLUSTER/postgresql.conf"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$CLUSTER" start 2>/dev/null || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p "$PORT" -q && break; sleep 1; done
  psql -h 127.0.0.1 -p "$PORT" -U postgres -Atqc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 ||
    psql -h 127.0.0.1 -p "$PORT" -U postgres -qc 'CREATE DATABASE test'
  echo "DATABASE_URL=postgres://postgres@127.0.0.1:$PORT/test (data on $MOUNT, mounted without discard)"
  ;;
stop)
  pg_dropcluster --stop "$VERSION" "$CLUSTER" 2>/dev/null || true
  mountpoint -q "$MOUNT" && umount "$MOUNT"
  rm -f "$IMAGE"
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
