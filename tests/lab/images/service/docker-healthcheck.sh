#!/bin/sh
# The vendor's health check, imitated: docker-healthcheck.sh [URL [CA_FILE]] - GET the URL (https verified
# against CA_FILE when given); without a URL, the service's own check (the webapp: its liveness).
exec python3 /usr/local/bin/standin.py --check "$@"
