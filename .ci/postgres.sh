# A real PostgreSQL server for the tests, in a temporary folder on a free loopback port.
# Sourced by .ci/run: `pg_start` installs the server binaries if they are missing, starts
# the server, and exports KETAPLAN_TEST_PG (a URL without a password) and PGPASSFILE (the
# password, the way a clinic keeps it); `pg_stop` stops it and removes the folder.
#
# PostgreSQL refuses to run as root, and CI runs as root: the server then runs as the
# existing unprivileged user `nobody` (nothing is added to the machine's users), owning
# only the temporary folder. Plain initdb/pg_ctl rather than pytest-postgresql: one fewer
# dependency, and the same server serves the benchmarks and the multi-process tests.

pg_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

pg_start() {
    local bin dir port password as_server=()
    if ! bin=$(pg_bin); then
        # Only the binaries: no cluster of the package's own, no service started.
        mkdir -p /etc/postgresql-common
        [ -e /etc/postgresql-common/createcluster.conf ] ||
            echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql-15
        bin=$(pg_bin)
    fi
    dir=$(mktemp -d /tmp/ketaplan-pg.XXXXXX)
    if [ "$(id -u)" = 0 ]; then
        chown nobody "$dir"
        as_server=(runuser -u nobody --)
    fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    "${as_server[@]}" "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --no-locale \
        --auth-local=trust --auth-host=scram-sha-256 > "$dir/initdb.log"
    "${as_server[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
        "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c max_connections=60" \
        start > /dev/null
    PG_CI_DIR=$dir
    PG_CI_BIN=$bin
    # The tests' role: creates a database per test and drops it, even while autovacuum
    # works in it (pg_signal_backend); its password only in the pgpass file.
    "${as_server[@]}" "$bin/psql" -q -h "$dir" -p "$port" -U postgres -d postgres \
        -v ON_ERROR_STOP=1 -c "CREATE ROLE ketaplan_ci LOGIN CREATEDB PASSWORD '$password'" \
        -c "GRANT pg_signal_backend TO ketaplan_ci" \
        -c "CREATE DATABASE ketaplan_ci OWNER ketaplan_ci"
    PG_CI_PASSFILE=$(mktemp /tmp/ketaplan-pgpass.XXXXXX)
    chmod 600 "$PG_CI_PASSFILE"
    echo "127.0.0.1:$port:*:ketaplan_ci:$password" > "$PG_CI_PASSFILE"
    export PGPASSFILE=$PG_CI_PASSFILE
    export KETAPLAN_TEST_PG="postgresql://ketaplan_ci@127.0.0.1:$port/ketaplan_ci"
}

pg_stop() {
    [ -n "${PG_CI_DIR:-}" ] || return 0
    local as_server=()
    [ "$(id -u)" = 0 ] && as_server=(runuser -u nobody --)
    "${as_server[@]}" "$PG_CI_BIN/pg_ctl" -D "$PG_CI_DIR/data" -m fast -w stop > /dev/null || true
    rm -rf "$PG_CI_DIR" "$PG_CI_PASSFILE"
    PG_CI_DIR=
}
