#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 (start an installed one, or install one).
set -euo pipefail
answers() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
if answers; then exit 0; fi
if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  echo "PostgreSQL is not installed: installing it with apt-get"
  "$(dirname "$0")/system-packages.sh" --required postgresql
  cfg=$(ls -d /etc/postgresql/*/main | head -n1)
  sed -i 's/^\(local\|host\)\(.*\)\(peer\|scram-sha-256\|md5\)$/\1\2trust/' "$cfg/pg_hba.conf"
fi
version=$(ls /etc/postgresql | sort -V | tail -n1)
echo "starting PostgreSQL $version"
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 30); do answers && exit 0; sleep 1; done
echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2
exit 1
