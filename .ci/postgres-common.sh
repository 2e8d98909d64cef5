# Sourced by .ci/start-postgres and .ci/stop-postgres: PostgreSQL's binaries (installed with apt when
# missing) and RUN_AS, the prefix that runs them as the postgres user when we are root.
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
fi
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
RUN_AS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system postgres
  RUN_AS=(runuser -u postgres --)
fi
