#!/usr/bin/env python3
"""Latency of the map interfaces on a running server (e.g. `zhili demo`):
z14 vector tiles of the grids layer over the whole district, and OGC API items pages of 1,000
grid features. Prints medians and p95 in milliseconds, measured from the client over loopback.

usage: bench/map-latency.py [BASE_URL] [ADMIN_PASSWORD]
"""
import json
import math
import statistics
import sys
import time
import urllib.request

base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
password = sys.argv[2] if len(sys.argv) > 2 else "admin-pass-2026"

req = urllib.request.Request(f"{base}/api/auth/login", data=json.dumps({"username": "admin", "password": password}).encode(),
                             headers={"content-type": "application/json"})
token = json.load(urllib.request.urlopen(req))["token"]
auth = {"authorization": f"Bearer {token}"}


def get(path):
    t = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(base + path, headers=auth)) as r:
        body = r.read()
    return (time.perf_counter() - t) * 1000, body


def tile(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def report(name, ms):
    ms = sorted(ms)
    print(f"{name}: n={len(ms)} median {statistics.median(ms):.2f} ms, p95 {ms[int(len(ms) * 0.95) - 1]:.2f} ms")


x0, y0 = tile(117.75, 36.55, 14)
x1, y1 = tile(118.05, 36.30, 14)
tiles = [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
sizes, times = [], []
for _ in range(3):
    for x, y in tiles:
        ms, body = get(f"/tiles/grids/14/{x}/{y}.mvt")
        times.append(ms)
        sizes.append(len(body))
report(f"z14 grid tiles ({len(tiles)} tiles, median {statistics.median(sizes) / 1024:.1f} KiB)", times)

times = []
for i in range(20):
    ms, body = get(f"/ogc/collections/grids/items?limit=1000&offset={(i % 5) * 1000}")
    assert json.loads(body)["numberReturned"] == 1000
    times.append(ms)
report("OGC items, 1,000 grid features per page", times)
