"""The stand-ins' health check (lab only): healthcheck.py [URL [CA_FILE]] - GET the URL, healthy (exit 0) on 200;
https verified against CA_FILE when given (the host name too), not verified without it. Without a URL: the
webapp's liveness (HUB_WEBAPP_PORT); any other service is alive, as this runs inside its container.

Docker runs it every few seconds in every container of every hub, so it stays small: the socket module and a raw
HTTP/1.0 request (ssl only for https), started as python3 -I -S - a tenth of what urllib and the stand-in's own
imports cost each time.
"""
import os
import socket
import sys


def status(url, cafile=None, timeout=8.0):
    """The HTTP status of GET url (no redirect followed: the stand-ins answer themselves)."""
    scheme, rest = url.split("://", 1)
    scheme, rest = scheme.lower(), rest.split("#", 1)[0]
    cut = min([i for i in (rest.find("/"), rest.find("?")) if i >= 0] or [len(rest)])
    hostport, path = rest[:cut], rest[cut:].lstrip("/")
    host, port = hostport, 443 if scheme == "https" else 80
    if hostport.startswith("["):  # [IPv6]:port
        host, dummy, after = hostport[1:].partition("]")
        port = int(after[1:]) if after.startswith(":") else port
    elif ":" in hostport:
        host, dummy, port = hostport.rpartition(":")
        port = int(port)
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        if scheme == "https":
            import ssl
            context = ssl.create_default_context(cafile=cafile)
            if not cafile:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            sock = context.wrap_socket(sock, server_hostname=host)
        sock.sendall(("GET /%s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, hostport)).encode("ascii"))
        head = b""
        while b"\r\n" not in head and len(head) < 4096:
            chunk = sock.recv(1024)
            if not chunk:
                break
            head += chunk
    finally:
        sock.close()
    parts = head.split(b"\r\n", 1)[0].split()
    return int(parts[1]) if len(parts) > 1 and parts[0].startswith(b"HTTP/") and parts[1].isdigit() else 0


def main(args):
    if not args:
        if os.environ.get("HUB_SERVICE", "webapp") != "webapp":
            return 0
        args = ["http://127.0.0.1:%s/api/health-checks/liveness" % os.environ.get("HUB_WEBAPP_PORT", "8080")]
    try:
        code = status(args[0], args[1] if len(args) > 1 else None)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        print("unhealthy: %s: %s" % (args[0], exc), file=sys.stderr)
        return 1
    if code != 200:
        print("unhealthy: %s: HTTP %s" % (args[0], code or "answer not understood"), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
