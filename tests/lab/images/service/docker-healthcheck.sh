#!/bin/sh
# webapp: healthy while its liveness endpoint answers 200 (it last wrote to the database); others: alive.
if [ "${HUB_SERVICE:-}" = webapp ]; then
  exec python3 -c 'import os,sys,urllib.request as u; u.urlopen("http://127.0.0.1:%s/api/health-checks/liveness" % os.environ.get("HUB_WEBAPP_PORT", "8080"), timeout=5); sys.exit(0)'
fi
exit 0
