"""Read a running Zhili server's OGC API - Features with OWSLib, a client we did not write.

usage: owslib_check.py BASE_URL/ogc BEARER_TOKEN
Lists the collections, then reads grid features inside a bounding box, and checks that every
feature returned lies in that box and carries its code.
"""
import sys

from owslib.ogcapi.features import Features

url, token = sys.argv[1], sys.argv[2]
api = Features(url, headers={"Authorization": f"Bearer {token}"})
ids = [c["id"] for c in api.collections()["collections"]]
assert ids == ["divisions", "grids"], ids
conf = api.conformance()["conformsTo"]
assert any(c.endswith("/conf/core") for c in conf), conf

bbox = [117.80, 36.40, 117.85, 36.45]
page = api.collection_items("grids", bbox=bbox, limit=500)
features = page["features"]
assert page["type"] == "FeatureCollection" and features, page.get("numberMatched")
for f in features:
    xs = [p[0] for ring in f["geometry"]["coordinates"] for p in ring]
    ys = [p[1] for ring in f["geometry"]["coordinates"] for p in ring]
    assert min(xs) <= bbox[2] and max(xs) >= bbox[0] and min(ys) <= bbox[3] and max(ys) >= bbox[1], f["id"]
    assert len(f["properties"]["code"]) == 14, f["properties"]
one = api.collection_item("grids", features[0]["id"])
assert one["id"] == features[0]["id"]
divisions = api.collection_items("divisions", limit=1000)
assert divisions["numberMatched"] == 225, divisions["numberMatched"]
print(f"OWSLib read {len(features)} grids in {bbox} of {page['numberMatched']} matched; collections {ids}")
