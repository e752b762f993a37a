#!/bin/sh
# Healthy once the server accepts connections on its normal socket (not the init-time one).
exec pg_isready -q -h /var/run/postgresql -p "${PGPORT:-5432}" -U postgres
