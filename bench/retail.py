#!/usr/bin/env python3
"""Retail benchmark data and measurements (bench/retail.sh drives them).

    retail.py gen OUT [--lines N] [--seed S]
        A synthetic chain, the same for the same seed: 4 regions, 24 stores, 4,000 products
        in 20 categories, two years (2024-2025) of receipts with about N sale lines (default
        10 million; 0.5 % returns, 5 % discounted lines, VAT 5.5 % or 20 % by category).
        OUT/catalog.csv            products for `comptoir catalog import --create-categories`
        OUT/stores.csv             code,region
        OUT/sales-YYYY-MM.csv      one import file per month
        OUT/lines.parquet          the same lines, raw, for DuckDB
    retail.py duckdb OUT --stores-json F [--runs N]
        Loads OUT/lines.parquet into an in-memory DuckDB table, then computes the dashboard's
        figures for 2025 (revenue excl./incl. VAT, cost, units, transactions, and the revenue
        of the previous period and of last year) and the monthly series, from the raw lines,
        at org level, for the first region and for the first store; N runs each, p50/p95.
        Prints JSON: {scope: {figures, p50_ms, p95_ms}}.
    retail.py dashboard BASE TOKEN --stores-json F --reference J [--runs N]
        The same three scopes through GET /api/v1/retail/dashboard on a running server (one
        kept-alive connection, N runs each after one warm-up), p50/p95, and the figures
        compared with DuckDB's (J, the output of `duckdb`), to the cent.
"""
import argparse
import csv
import http.client
import json
import os
import sys
import time
from decimal import Decimal
from urllib.parse import urlparse

import numpy as np
import pandas as pd

CATEGORIES = [
    ("epicerie", 550), ("boissons", 550), ("frais", 550), ("hygiene", 2000), ("beaute", 2000),
    ("maison", 2000), ("jardin", 2000), ("bricolage", 2000), ("textile", 2000),
    ("chaussures", 2000), ("jouets", 2000), ("sport", 2000), ("librairie", 550),
    ("papeterie", 2000), ("electromenager", 2000), ("high-tech", 2000), ("animalerie", 2000),
    ("bebe", 550), ("auto", 2000), ("cave", 2000),
]  # (category slug, VAT rate in percent × 100)
REGIONS = ["NORD", "SUD", "EST", "OUEST"]
STORES_PER_REGION = 6
PRODUCTS = 4000
FIRST, LAST = "2024-01-01", "2025-12-31"


def money(c):
    sign = "-" if c < 0 else ""
    c = abs(int(c))
    return f"{sign}{c // 100}.{c % 100:02d}"


def gen(args):
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)
    # Products: category, price (cents), purchase price, popularity (Zipf over a shuffled order).
    cat = rng.integers(0, len(CATEGORIES), PRODUCTS)
    price = np.round(np.exp(rng.normal(2.6, 1.0, PRODUCTS)) * 100).clip(50, 500_000).astype(np.int64)
    purchase = np.round(price * rng.uniform(0.55, 0.78, PRODUCTS)).astype(np.int64)
    vat = np.array([CATEGORIES[c][1] for c in cat], dtype=np.int64)
    skus = np.array([f"SKU-{i:05d}" for i in range(PRODUCTS)])
    rank = rng.permutation(PRODUCTS) + 1
    popularity = 1.0 / rank**1.1
    popularity /= popularity.sum()
    with open(os.path.join(args.out, "catalog.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sku", "name", "category", "sale_price", "purchase_price", "vat_rate", "status"])
        for i in range(PRODUCTS):
            w.writerow([skus[i], f"Article {i:05d}", CATEGORIES[cat[i]][0], money(price[i]),
                        money(purchase[i]), f"{vat[i] / 100:g}", "active"])
    stores = [f"S{n + 1:02d}" for n in range(len(REGIONS) * STORES_PER_REGION)]
    region_of = [REGIONS[n // STORES_PER_REGION] for n in range(len(stores))]
    with open(os.path.join(args.out, "stores.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["code", "region"])
        w.writerows(zip(stores, region_of))

    days = pd.date_range(FIRST, LAST, freq="D")
    size = rng.uniform(0.6, 1.4, len(stores))
    weekday = np.array([0.8, 0.85, 0.9, 0.95, 1.15, 1.45, 0.9])  # Monday..Sunday
    season = 1 + 0.25 * np.cos((days.day_of_year.values - 350) / 365 * 2 * np.pi)
    growth = np.where(days.year.values == 2025, 1.04, 1.0)
    day_factor = weekday[days.day_of_week.values] * season * growth
    lines_per_receipt = 1 / 0.4  # 1 + geometric(0.4) − 1
    expected = np.outer(size, day_factor)  # store × day
    base = args.lines / lines_per_receipt / expected.sum()
    receipts = rng.poisson(base * expected)  # store × day

    frames = []
    total = 0
    for month in sorted(set(days.strftime("%Y-%m"))):
        in_month = np.flatnonzero(days.strftime("%Y-%m") == month)
        s_idx, d_idx = np.meshgrid(np.arange(len(stores)), in_month, indexing="ij")
        s_idx, d_idx = s_idx.ravel(), d_idx.ravel()
        n = receipts[s_idx, d_idx]
        r_store = np.repeat(s_idx, n)
        r_day = np.repeat(d_idx, n)
        # Receipt number: store, day, sequence within the day.
        first = np.cumsum(n) - n
        r_seq = np.arange(n.sum()) - np.repeat(first, n)
        r_len = rng.geometric(0.4, len(r_store))
        l_store = np.repeat(r_store, r_len)
        l_day = np.repeat(r_day, r_len)
        l_seq = np.repeat(r_seq, r_len)
        l_second = np.repeat(rng.integers(9 * 3600, 20 * 3600, len(r_store)), r_len)
        product = rng.choice(PRODUCTS, size=len(l_store), p=popularity)
        qty = rng.geometric(0.7, len(l_store)).astype(np.int64)
        qty[rng.random(len(qty)) < 0.005] *= -1
        gross = qty * price[product]
        discount = np.where(rng.random(len(qty)) < 0.05, np.abs(gross) // 10, 0)
        date = days[l_day]
        store_code = pd.Series(np.array(stores)[l_store])
        receipt = (store_code + "-" + pd.Series(np.asarray(date.strftime("%Y%m%d")))
                   + "-" + pd.Series(l_seq).astype(str).str.zfill(5))
        clock = pd.Series(l_second // 3600).astype(str).str.zfill(2) + ":" \
            + pd.Series(l_second // 60 % 60).astype(str).str.zfill(2) + ":" \
            + pd.Series(l_second % 60).astype(str).str.zfill(2)
        sold_at = pd.Series(np.asarray(date.strftime("%Y-%m-%d"))) + " " + clock
        df = pd.DataFrame({
            "receipt": receipt.values,
            "store": store_code.values,
            "sold_at": sold_at.values,
            "sku": skus[product],
            "quantity": qty,
            "unit_price": [money(p) for p in price[product]],
            "discount": [money(d) for d in discount],
        })
        df.to_csv(os.path.join(args.out, f"sales-{month}.csv"), index=False)
        total += len(df)
        frames.append(pd.DataFrame({
            "receipt": df["receipt"].values,
            "store": df["store"].values,
            "region": np.array(region_of)[l_store],
            "day": date.values.astype("datetime64[D]"),
            "category": np.array([c[0] for c in CATEGORIES])[cat[product]],
            "quantity": qty,
            "price_c": price[product],
            "discount_c": discount,
            "vat_e2": vat[product],
            "purchase_c": purchase[product],
        }))
        print(f"\r{month}: {total:,} lines", end="", file=sys.stderr)
    print(file=sys.stderr)
    pd.concat(frames).to_parquet(os.path.join(args.out, "lines.parquet"), index=False)
    print(f"{total} sale lines in {args.out}")


# Amounts in ten-thousandths (e4), as Comptoir stores them: VAT rounded half away from zero.
FIGURES_SQL = """
WITH l AS (
  SELECT receipt, day,
         quantity * price_c * 100 - sign(quantity) * discount_c * 100 AS excl,
         quantity * purchase_c * 100 AS cost, quantity, vat_e2 * 100 AS vat_e4
  FROM lines WHERE {scope}
), v AS (
  SELECT *, excl + sign(excl) * ((abs(excl) * vat_e4 + 500000) // 1000000) AS incl FROM l
)
SELECT
  sum(excl) FILTER (WHERE day BETWEEN DATE '2025-01-01' AND DATE '2025-12-31') AS revenue_excl,
  sum(incl) FILTER (WHERE day BETWEEN DATE '2025-01-01' AND DATE '2025-12-31') AS revenue_incl,
  sum(cost) FILTER (WHERE day BETWEEN DATE '2025-01-01' AND DATE '2025-12-31') AS cost,
  sum(quantity) FILTER (WHERE day BETWEEN DATE '2025-01-01' AND DATE '2025-12-31') AS units,
  count(DISTINCT receipt) FILTER (WHERE day BETWEEN DATE '2025-01-01' AND DATE '2025-12-31') AS transactions,
  sum(excl) FILTER (WHERE day BETWEEN DATE '2024-01-01' AND DATE '2024-12-31') AS previous_revenue_excl
FROM v
"""
SERIES_SQL = """
SELECT strftime(day, '%Y-%m') AS month, sum(quantity * price_c * 100 - sign(quantity) * discount_c * 100) AS excl
FROM lines WHERE {scope} AND day BETWEEN DATE '2025-01-01' AND DATE '2025-12-31'
GROUP BY 1 ORDER BY 1
"""


def scopes(stores_json):
    with open(stores_json) as f:
        s = json.load(f)
    return [("org", "TRUE", ""),
            ("region", f"region = '{s['region_code']}'", f"&region_id={s['region_id']}"),
            ("store", f"store = '{s['store_code']}'", f"&store_id={s['store_id']}")]


def e4(v):
    return str((Decimal(int(v)) / Decimal(10000)).quantize(Decimal("0.0001")).normalize())


def pct(samples, q):
    return float(np.percentile(np.array(samples) * 1000, q))


def run_duckdb(args):
    import duckdb

    con = duckdb.connect()
    t = time.perf_counter()
    con.execute(f"CREATE TABLE lines AS SELECT * FROM read_parquet('{args.out}/lines.parquet')")
    load = time.perf_counter() - t
    out = {"load_s": load, "rows": con.execute("SELECT count(*) FROM lines").fetchone()[0]}
    for name, where, _ in scopes(args.stores_json):
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            row = con.execute(FIGURES_SQL.format(scope=where)).fetchone()
            series = con.execute(SERIES_SQL.format(scope=where)).fetchall()
            times.append(time.perf_counter() - t)
        keys = ["revenue_excl", "revenue_incl", "cost", "units", "transactions", "previous_revenue_excl"]
        fig = dict(zip(keys, row))
        figures = {k: (int(v) if k in ("units", "transactions") else e4(v)) for k, v in fig.items()}
        figures["last_year_revenue_excl"] = figures["previous_revenue_excl"]
        figures["series"] = {m: e4(v) for m, v in series}
        out[name] = {"figures": figures, "p50_ms": pct(times, 50), "p95_ms": pct(times, 95)}
    json.dump(out, sys.stdout, indent=1)
    print()


def run_dashboard(args):
    with open(args.reference) as f:
        ref = json.load(f)
    url = urlparse(args.base)
    conn = http.client.HTTPConnection(url.hostname, url.port)
    headers = {"Authorization": f"Bearer {args.token}"}
    out = {}
    ok = True
    for name, _, query in scopes(args.stores_json):
        path = f"/api/v1/retail/dashboard?from=2025-01&to=2025-12{query}"
        times = []
        body = None
        for i in range(args.runs + 1):
            t = time.perf_counter()
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 200:
                sys.exit(f"{path}: {resp.status} {data[:300]!r}")
            if i > 0:
                times.append(time.perf_counter() - t)
            body = json.loads(data)
        got = {k: body["figures"][k] for k in
               ["revenue_excl", "revenue_incl", "cost", "units", "transactions",
                "previous_revenue_excl", "last_year_revenue_excl"]}
        got = {k: (v if isinstance(v, int) else str(Decimal(v).normalize())) for k, v in got.items()}
        got["series"] = {p["month"][:7]: str(Decimal(p["revenue_excl"]).normalize())
                         for p in body["series"] if Decimal(p["revenue_excl"]) != 0}
        want = ref[name]["figures"]
        diff = {k: (got.get(k), want[k]) for k in want if got.get(k) != want[k]}
        ok &= not diff
        out[name] = {"p50_ms": pct(times, 50), "p95_ms": pct(times, 95),
                     "same_figures_as_duckdb": not diff, **({"differences": diff} if diff else {})}
    json.dump(out, sys.stdout, indent=1)
    print()
    if not ok:
        sys.exit("the dashboard and DuckDB disagree")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("gen")
    g.add_argument("out")
    g.add_argument("--lines", type=int, default=10_000_000)
    g.add_argument("--seed", type=int, default=2026)
    d = sub.add_parser("duckdb")
    d.add_argument("out")
    d.add_argument("--stores-json", required=True)
    d.add_argument("--runs", type=int, default=20)
    h = sub.add_parser("dashboard")
    h.add_argument("base")
    h.add_argument("token")
    h.add_argument("--stores-json", required=True)
    h.add_argument("--reference", required=True)
    h.add_argument("--runs", type=int, default=200)
    args = p.parse_args()
    {"gen": gen, "duckdb": run_duckdb, "dashboard": run_dashboard}[args.command](args)


if __name__ == "__main__":
    main()
