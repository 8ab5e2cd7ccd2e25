"""Totals orders by region and prints the report."""

import csv
import io
import os

import six
import toml

# The day's orders; a real job would read them from its database.
ORDERS = """region,amount
north,120.50
south,80.00
north,30.25
east,15.00
"""


def settings():
    with open(os.path.join(os.path.dirname(__file__), "settings.toml")) as f:
        return toml.load(f)


def totals(rows):
    out = {}
    for row in rows:
        region = six.ensure_str(row["region"]).strip()
        out[region] = out.get(region, 0.0) + float(row["amount"])
    return dict(sorted(out.items()))


def render(title, currency, by_region):
    lines = [title]
    for region, amount in by_region.items():
        lines.append("%-8s %10.2f %s" % (region, amount, currency))
    return "\n".join(lines)


def main(argv):
    cfg = settings()
    rows = csv.DictReader(io.StringIO(ORDERS))
    print(render(cfg["title"], cfg["currency"], totals(rows)))
    return 0
