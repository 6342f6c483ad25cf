#!/usr/bin/env bash
# Run COMMAND... beside a throwaway PostgreSQL cluster and tell it where to find it.
#
#   scripts/with-postgres.sh .venv/bin/pytest -q
#
# Why a private cluster rather than the machine's service: CI starts on a fresh machine with no
# running services, tests must not touch a real database, and the cluster must vanish afterwards,
# also when the command fails or is interrupted. It listens on a Unix socket in its own temporary
# directory only (no TCP port to collide with), trusts local connections, and is exported as
# LOTSE_TEST_POSTGRES_URL (the tests create one database per test from it).
#
# PostgreSQL refuses to run as root; as root (CI, this machine) the cluster runs as the `postgres`
# user that Debian's package creates. Without PostgreSQL installed the command runs without the
# variable (the PostgreSQL tests then skip), unless CI is set: then it is an error.
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 COMMAND..." >&2
    exit 2
fi

pg_bin="${PG_BIN:-}"
if [[ -z "$pg_bin" ]]; then
    # Debian keeps the server binaries out of PATH, one directory per major version: take the newest.
    pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
fi
if [[ -z "$pg_bin" || ! -x "$pg_bin/initdb" || ! -x "$pg_bin/pg_ctl" ]]; then
    if [[ -n "${CI:-}" ]]; then
        echo "with-postgres: PostgreSQL not found (apt-get install postgresql; or set PG_BIN)" >&2
        exit 1
    fi
    echo "with-postgres: PostgreSQL not installed; its tests will skip" >&2
    exec "$@"
fi

as_owner=()
if [[ "$(id -u)" -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || { echo "with-postgres: running as root but no 'postgres' user" >&2; exit 1; }
    as_owner=(runuser -u postgres --)
fi

dir="$(mktemp -d -t lotse-pg.XXXXXX)"
chmod 755 "$dir"
[[ ${#as_owner[@]} -eq 0 ]] || chown postgres: "$dir"
port=5432  # only names the socket file inside $dir; nothing listens on TCP

stop() {
    "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"${as_owner[@]}" "$pg_bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
# fsync off and a small footprint: the data is thrown away, speed and the 2 shared cores matter more.
"${as_owner[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-k $dir -p $port -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
-c max_connections=200 -c shared_buffers=32MB" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }

export LOTSE_TEST_POSTGRES_URL="postgresql+psycopg://postgres@/postgres?host=$dir&port=$port"
echo "with-postgres: $("$pg_bin/postgres" --version) on $dir" >&2
status=0
"$@" || status=$?
exit "$status"
