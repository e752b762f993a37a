"""The lab cluster's DNS (lab only): Service names to the addresses of their ready pods.

The lab's Kubernetes has no kube-proxy (ClusterIPs do not route) and no CoreDNS, yet the vendor's real manifests
have every pod find the others by Service name (webapp -> postgres:5432, the webserver -> webapp:8080). This small
server answers `<service>.<namespace>.svc.<domain>` (and the short forms the pods' search list expands to it)
with the ready addresses of the Service's Endpoints - what a headless Service answers - so pods reach each other
directly, on the ports the pods listen on. The kubelet points every pod at it (--cluster-dns).

    cluster-dns.py --listen ADDRESS --api URL --ca FILE --token-file FILE [--domain cluster.local]

It listens on the Docker bridge's host address (pods reach it; nothing outside this machine does), answers A
queries only, NODATA for other types of a known name, NXDOMAIN for unknown names under the domain and REFUSED for
any other name: it never forwards a query anywhere.
"""
import argparse
import json
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.request

TTL = 5


class Endpoints(object):
    """Every Service's ready addresses, read from the API server at most once a second."""

    def __init__(self, api, ca, token):
        self.api, self.token = api.rstrip("/"), token
        self.context = ssl.create_default_context(cafile=ca)
        self.lock = threading.Lock()
        self.at, self.table = 0.0, {}

    def lookup(self, service, namespace):
        with self.lock:
            if time.monotonic() - self.at > 1.0:
                try:
                    self.table = self._read()
                    self.at = time.monotonic()
                except Exception as exc:  # keep the last table; say why
                    print("cluster-dns: cannot read endpoints: %s" % exc, file=sys.stderr, flush=True)
            return self.table.get((namespace, service))

    def _read(self):
        req = urllib.request.Request(self.api + "/api/v1/endpoints", headers={"Authorization": "Bearer " + self.token})
        with urllib.request.urlopen(req, context=self.context, timeout=5) as r:
            items = json.load(r).get("items", [])
        table = {}
        for ep in items:
            key = (ep["metadata"]["namespace"], ep["metadata"]["name"])
            table[key] = sorted({a["ip"] for s in ep.get("subsets") or [] for a in s.get("addresses") or []})
        return table


def parse_question(packet):
    """(id, flags, name, qtype, end of the question) of a query."""
    qid, flags, qdcount = struct.unpack("!HHH", packet[:6])
    if qdcount != 1:
        raise ValueError("one question per query")
    labels, pos = [], 12
    while True:
        n = packet[pos]
        if n == 0:
            pos += 1
            break
        if n & 0xC0:
            raise ValueError("compressed question names are not expected")
        labels.append(packet[pos + 1:pos + 1 + n].decode("ascii", "replace").lower())
        pos += 1 + n
    qtype, dummy = struct.unpack("!HH", packet[pos:pos + 4])
    return qid, flags, ".".join(labels), qtype, pos + 4


def answer(packet, resolve, domain):
    qid, flags, name, qtype, end = parse_question(packet)
    question = packet[12:end]
    suffix = ".svc." + domain
    addresses, rcode = [], 5  # REFUSED: not ours
    if name.endswith(suffix):
        parts = name[:-len(suffix)].split(".")
        found = resolve(parts[0], parts[1]) if len(parts) == 2 else None
        rcode = 0 if found is not None else 3  # NXDOMAIN
        addresses = found or []
    elif name == domain or name.endswith("." + domain):
        rcode = 3
    if qtype != 1:  # only A records: other types of a known name have no data
        addresses = []
    header = struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | rcode, 1, len(addresses), 0, 0)
    records = b"".join(struct.pack("!HHHIH", 0xC00C, 1, 1, TTL, 4) + socket.inet_aton(a) for a in addresses)
    return header + question + records


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", required=True)
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--api", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--domain", default="cluster.local")
    a = ap.parse_args(argv)
    with open(a.token_file) as f:
        endpoints = Endpoints(a.api, a.ca, f.read().strip())
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((a.listen, a.port))
    print("cluster-dns: answering for *.svc.%s on %s:%d" % (a.domain, a.listen, a.port), flush=True)
    while True:
        packet, peer = sock.recvfrom(4096)
        try:
            sock.sendto(answer(packet, endpoints.lookup, a.domain), peer)
        except (ValueError, IndexError, struct.error) as exc:
            print("cluster-dns: bad query from %s: %s" % (peer[0], exc), file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
