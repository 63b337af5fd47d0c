#!/bin/bash
# The stand-in postgres image's entrypoint (see the Dockerfile for what it reproduces).
set -Eeuo pipefail

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"

# As root (plain `docker run`): own the data and socket directories, then run as postgres.
# As any other UID (our pods: 10001 with fsGroup): run as that UID.
step_down() {
	mkdir -p "$PGDATA"
	chown postgres:postgres "$PGDATA"
	chmod 700 "$PGDATA"
	exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
}

# initdb looks its user up; an arbitrary UID has no passwd entry, so lend it one (upstream too).
with_passwd_entry() {
	if getent passwd "$(id -u)" >/dev/null; then
		"$@"
		return
	fi
	local passwd group
	passwd="$(mktemp)" group="$(mktemp)"
	echo "postgres:x:$(id -u):$(id -g):PostgreSQL:$PGDATA:/bin/false" >"$passwd"
	echo "postgres:x:$(id -g):" >"$group"
	LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_PASSWD="$passwd" NSS_WRAPPER_GROUP="$group" "$@"
	rm -f "$passwd" "$group"
}

init_database_dir() {
	if [ -z "${POSTGRES_PASSWORD:-}" ]; then
		echo "error: the database is uninitialised and POSTGRES_PASSWORD is not set" >&2
		exit 1
	fi
	mkdir -p "$PGDATA"
	chmod 700 "$PGDATA"
	# shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of words, as upstream reads it
	with_passwd_entry initdb --username="$POSTGRES_USER" --auth-local=trust \
		--auth-host=scram-sha-256 --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
		${POSTGRES_INITDB_ARGS:-}
	printf '\nhost all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
}

# The server as the rest of the command line configures it (e.g. ssl), on the socket only.
temp_server_start() {
	set -- "$@" -c listen_addresses='' -p "${PGPORT:-5432}"
	pg_ctl -D "$PGDATA" -o "$(printf '%q ' "$@")" -w start
}

run_init_scripts() {
	local psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
	if [ "$POSTGRES_DB" != postgres ]; then
		"${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<-'SQL'
			CREATE DATABASE :"db";
		SQL
	fi
	local f
	for f in /docker-entrypoint-initdb.d/*; do
		# shellcheck disable=SC1090  # the scripts are the user's, sourced as upstream does
		case "$f" in
		*.sh) echo "running $f" && . "$f" ;;
		*.sql) echo "running $f" && "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
		*) if [ -e "$f" ]; then echo "ignoring $f"; fi ;;
		esac
	done
}

main() {
	if [ "${1:0:1}" = '-' ]; then
		set -- postgres "$@"
	fi
	if [ "$1" != postgres ]; then
		exec "$@"
	fi
	if [ "$(id -u)" = 0 ]; then
		step_down "$@"
	fi
	if [ ! -s "$PGDATA/PG_VERSION" ]; then
		init_database_dir
		temp_server_start "${@:2}"
		run_init_scripts
		pg_ctl -D "$PGDATA" -m fast -w stop
		echo "PostgreSQL init process complete; ready for start up."
	fi
	exec "$@"
}

main "$@"
