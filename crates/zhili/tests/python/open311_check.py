"""Report a problem to a running Zhili server through Open311 GeoReport v2 and follow it with
georeport (PyPI), a GeoReport client we did not write, in JSON and in XML.

usage: open311_check.py BASE_URL
Finds a point inside a village of the district through the public OGC API, lists the services
and a service definition with georeport, posts a report form-encoded as the specification says
(georeport 0.3.1 has no POST method, so `requests`, which it uses itself, sends it), reads the
request back by id and in listings with georeport, and checks a bad report is refused in
GeoReport's error format. Prints `open311 ids: <json id> <xml id>` for the caller to check.
"""
import sys

import requests
import xmltodict
from georeport import GeoReport

base = sys.argv[1].rstrip("/")
root = f"{base}/open311/v2"


def inside(x, y, ring):
    """Ray casting: whether (x, y) lies inside the ring."""
    hit = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


def point_in(feature):
    """A point inside the feature's first polygon (its vertex mean, else its bbox centre)."""
    geom = feature["geometry"]
    polygon = geom["coordinates"][0] if geom["type"] == "MultiPolygon" else geom["coordinates"]
    outer, holes = polygon[0], polygon[1:]
    xs, ys = [p[0] for p in outer], [p[1] for p in outer]
    for x, y in [(sum(xs) / len(xs), sum(ys) / len(ys)), ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)]:
        if inside(x, y, outer) and not any(inside(x, y, h) for h in holes):
            return x, y
    return None


villages = requests.get(f"{base}/ogc/collections/divisions/items", params={"level": "village", "limit": 20})
villages.raise_for_status()
points = [(f["properties"]["name"], point_in(f)) for f in villages.json()["features"]]
name, (lon, lat) = next((n, p) for n, p in points if p)

ids = []
for fmt in ("json", "xml"):
    api = GeoReport(root, jurisdiction="zhili.example", output_format=fmt)
    services = api.get_service_list()
    codes = [s["service_code"] for s in services]
    assert "SJ0102" in codes and len(codes) > 50, codes
    rubbish = next(s for s in services if s["service_code"] == "SJ0102")
    assert rubbish["service_name"] == "暴露垃圾" and rubbish["type"] == "realtime", rubbish
    definition = api.get_service_definition("SJ0102")
    assert definition["service_code"] == "SJ0102", definition
    assert not definition["attributes"], definition

    form = {
        "api_key": "not-needed",
        "jurisdiction_id": "zhili.example",
        "service_code": "SJ0102",
        "lat": f"{lat:.6f}",
        "long": f"{lon:.6f}",
        "description": f"{name}路边暴露垃圾 ({fmt})",
        "phone": "13812345678",
        "device_id": f"georeport-{fmt}",
        "media_url": "https://img.example.com/rubbish.jpg",
    }
    r = requests.post(f"{root}/requests.{fmt}", data=form)
    assert r.status_code == 201, (r.status_code, r.text)
    if fmt == "json":
        created = r.json()[0]
    else:
        assert r.headers["content-type"].startswith("text/xml"), r.headers
        created = xmltodict.parse(r.content)["service_requests"]["request"]
    sid = str(created["service_request_id"])

    one = api.get_service_request(sid)
    assert str(one["service_request_id"]) == sid, one
    assert one["status"] == "open", one
    assert one["extended_attributes"]["status_detail"] == "submitted", one
    assert one["service_code"] == "SJ0102" and one["media_url"] == form["media_url"], one
    assert abs(float(one["lat"]) - lat) < 1e-6 and abs(float(one["long"]) - lon) < 1e-6, one
    assert "12345678" not in str(one), "no personal data in public answers"

    listed = api.get_service_requests(status="open", service_code="SJ0102")
    listed = [listed] if isinstance(listed, dict) else listed
    assert sid in [str(x["service_request_id"]) for x in listed], len(listed)
    by_id = api.get_service_requests(service_request_id=sid)
    by_id = [by_id] if isinstance(by_id, dict) else by_id
    assert [str(x["service_request_id"]) for x in by_id] == [sid], by_id

    bad = requests.post(f"{root}/requests.{fmt}", data={**form, "lat": "91", "device_id": "other"})
    assert bad.status_code == 400, bad.text
    if fmt == "json":
        errors = bad.json()
    else:
        errors = xmltodict.parse(bad.content)["errors"]["error"]
        errors = [errors] if isinstance(errors, dict) else errors
    assert [str(e["code"]) for e in errors] == ["400"], errors
    assert errors[0]["description"].startswith("lat: must be within -90..90"), errors
    ids.append(sid)
    print(f"georeport ({fmt}): {len(codes)} services; request {sid} at {lat:.6f},{lon:.6f} in {name} is open")

print("open311 ids:", *ids)
