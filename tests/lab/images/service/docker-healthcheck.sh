#!/bin/sh
# The vendor's health check, imitated: docker-healthcheck.sh [URL [CA_FILE]] - GET the URL (https verified
# against CA_FILE when given); without a URL, the service's own check (the webapp: its liveness; any other service
# is alive, as this runs inside it - answered here, without starting Python: Docker runs this every few seconds).
if [ $# -eq 0 ] && [ "${HUB_SERVICE:-webapp}" != webapp ]; then
  exit 0
fi
exec python3 -I -S /usr/local/bin/healthcheck.py "$@"
