#!/usr/bin/env python3
"""Worklists and figures on a store at scale (e.g. 10,000,000 cases), over HTTP on a running
server: p50/p95 of filtered worklist pages for each role, and the figures of one district-year
(the dashboard's call: the period, the period before and the same period a year earlier).
Prints medians and p95 in milliseconds, measured from the client over loopback.

usage: bench/cases-at-scale.py [BASE_URL] [PASSWORD] [REPEATS]
Make the store first (once; about an hour and 30 GB on two cores for ten million cases):
    zhili demo --no-serve --cases 10000000 --case-years 10 --data-dir /path/d10m
then serve it:  zhili demo --data-dir /path/d10m --listen 127.0.0.1:18490
See bench/cases-at-scale.sh, which does both.
"""
import datetime
import json
import statistics
import sys
import time
import urllib.error
import urllib.request

base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:18490"
password = sys.argv[2] if len(sys.argv) > 2 else "zhili-demo"
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 30


def login(user):
    req = urllib.request.Request(f"{base}/api/auth/login", data=json.dumps({"username": user, "password": password}).encode(),
                                 headers={"content-type": "application/json"})
    return {"authorization": "Bearer " + json.load(urllib.request.urlopen(req))["token"]}


def get(auth, path):
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(urllib.request.Request(base + path, headers=auth), timeout=120) as r:
            body = r.read()
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{path}: {e.code} {e.read()[:300]!r}")
    return (time.perf_counter() - t) * 1000, json.loads(body)


def report(name, ms, extra=""):
    ms = sorted(ms)
    p95 = ms[max(0, int(round(len(ms) * 0.95)) - 1)]
    print(f"{name:<58} n={len(ms):<3} median {statistics.median(ms):8.1f} ms  p95 {p95:8.1f} ms  {extra}", flush=True)
    return statistics.median(ms), p95


operator, leader, staff, town = login("operator1"), login("leader"), login("cgj01"), login("leader_shantou")
_, total = get(operator, "/api/cases?limit=1")
print(f"store: {total['total']:,}{'' if total.get('total_exact', True) else '+'} cases visible to the district operator")
today = datetime.date.today()
year_ago = today.replace(year=today.year - 1)

print("-- worklist pages (20 rows, with the total count), overdue first")
worst = 0.0
for name, auth, query in [
    ("operator: to file (reported)", operator, "state=reported"),
    ("operator: to dispatch (filed)", operator, "state=filed"),
    ("operator: overdue, any state", operator, "overdue=true"),
    ("operator: to verify (responded), class SJ01", operator, "state=responded&class=SJ01"),
    ("operator: dispatched to cgj", operator, "state=dispatched&department=cgj"),
    ("operator: reported in the last 7 days", operator, f"from={today - datetime.timedelta(days=7)}"),
    ("operator: closed, one month a year ago", operator,
     f"state=closed&from={year_ago.replace(day=1)}&to={(year_ago.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)}"),
    ("department cgj: to accept", staff, "state=dispatched"),
    ("department cgj: handling", staff, "state=handling"),
    ("township leader: all states", town, ""),
    ("leader: page 50 of everything", leader, "offset=1000"),
]:
    times = []
    for _ in range(repeats):
        ms, b = get(auth, f"/api/cases?limit=20&{query}")
        times.append(ms)
    more = "" if b.get("total_exact", True) else "+"  # worklists count up to 10,000
    _, p95 = report(name, times, f"({b['total']:,}{more} match)")
    worst = max(worst, p95)
print(f"worst worklist p95: {worst:.1f} ms (target < 50 ms)")

print("-- figures of one district-year (period + previous + last year, as the dashboard asks)")
period = f"from={year_ago}&to={today}"
worst = 0.0
# Village and grid come from the monthly place rollup: the whole months of the period summed,
# the parts of months at its ends (here about a month in all) scanned.
for group in ["none", "department", "month", "major", "township", "class", "village", "grid"]:
    times = []
    for _ in range(max(5, repeats // 3)):
        ms, b = get(leader, f"/api/case-metrics?{period}&group={group}")
        times.append(ms)
    med, _ = report(f"district-year figures by {group}", times,
                    f"(reported {b['total']['tally']['reported']:,}, closure {b['total']['rates']['closure_rate']:.2%}, "
                    f"{len(b['rows'])} rows)")
    worst = max(worst, med)
print(f"slowest district-year median: {worst:.0f} ms (target < 1,000 ms)")
calendar_year = f"from={today.year - 1}-01-01&to={today.year}-01-01"
for group in ["village", "grid"]:
    times = []
    for _ in range(max(5, repeats // 3)):
        ms, b = get(leader, f"/api/case-metrics?{calendar_year}&group={group}")
        times.append(ms)
    report(f"calendar year {today.year - 1} figures by {group} (whole months only)", times, f"({len(b['rows'])} rows)")
