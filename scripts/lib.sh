# Shared settings and helpers for the scripts in this directory. Source it; do not run it.

# The PostgreSQL server the tests use: local, user postgres, no password (trust).
PG_HOST=127.0.0.1
PG_PORT=5432
PG_USER=postgres

log() { echo "${0##*/}: $*" >&2; }
die() {
	log "$*"
	exit 1
}

# ensure_go puts the Go toolchain on PATH if it is installed in the usual place but not on PATH.
ensure_go() {
	if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
		PATH="$PATH:/usr/local/go/bin"
		export PATH
	fi
	command -v go >/dev/null 2>&1 ||
		die "go is not on PATH (nor in /usr/local/go/bin): install the Go version named in go.mod"
}

# pg_psql DB ARGS... runs psql against database DB on the test server, never prompting for a
# password.
pg_psql() {
	local db=$1
	shift
	psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$db" -w -X -q -v ON_ERROR_STOP=1 "$@"
}

# pg_admin_db prints the name of a database to connect to for CREATE/DROP DATABASE: test or
# postgres, whichever accepts a connection.
pg_admin_db() {
	local db
	for db in test postgres; do
		if pg_psql "$db" -Atc 'SELECT 1' >/dev/null 2>&1; then
			echo "$db"
			return 0
		fi
	done
	return 1
}

# use_test_database creates an empty database for this run, named
# regulars_test_<timestamp>_<pid>, exports TEST_DATABASE_URL (pointing at it) and
# REGULARS_REQUIRE_POSTGRES=1 (so tests fail rather than skip without it), and drops it when
# the calling script exits, whether it succeeds, fails or is interrupted.
use_test_database() {
	local admin
	admin=$(pg_admin_db) ||
		die "cannot connect to PostgreSQL at $PG_HOST:$PG_PORT as $PG_USER (run scripts/ensure-postgres)"
	TEST_DB_NAME="regulars_test_$(date +%Y%m%d%H%M%S)_$$"
	TEST_DB_ADMIN=$admin
	pg_psql "$TEST_DB_ADMIN" -c "CREATE DATABASE $TEST_DB_NAME" ||
		die "cannot create database $TEST_DB_NAME"
	trap drop_test_database EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	export TEST_DATABASE_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$TEST_DB_NAME?sslmode=disable"
	export REGULARS_REQUIRE_POSTGRES=1
	log "using database $TEST_DB_NAME"
}

drop_test_database() {
	local status=$?
	if ! pg_psql "$TEST_DB_ADMIN" -c "DROP DATABASE IF EXISTS $TEST_DB_NAME WITH (FORCE)" >/dev/null; then
		log "could not drop database $TEST_DB_NAME; drop it by hand"
		[ "$status" -ne 0 ] || status=1
	fi
	exit "$status"
}
