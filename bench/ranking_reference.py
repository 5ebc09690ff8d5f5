#!/usr/bin/env python3
"""Courier ranking latency of the Python reference (pymcdm AHP + TOPSIS, numpy haversine),
for the same request sizes and data distribution as benches/ranking.rs. Prints CSV."""
import math
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "crates", "comptoir-reco",
                                "tests", "reference"))
import mcdm_reference as ref  # noqa: E402

R = 6371.0088
PICKUP = (48.8566, 2.3522)
SUITABILITY = {"velo": 0.4, "scooter": 0.6, "moto": 0.7, "voiture": 0.9, "camionnette": 1.0}
DEFAULT_MATRIX = [[1, 3, 4, 5], [1 / 3, 1, 2, 3], [1 / 4, 1 / 2, 1, 2], [1 / 5, 1 / 3, 1 / 2, 1]]


def destination(lat, lon, bearing_deg, km):
    phi, lam, th, d = math.radians(lat), math.radians(lon), math.radians(bearing_deg), km / R
    phi2 = math.asin(math.sin(phi) * math.cos(d) + math.cos(phi) * math.sin(d) * math.cos(th))
    lam2 = lam + math.atan2(math.sin(th) * math.sin(d) * math.cos(phi),
                            math.cos(d) - math.sin(phi) * math.sin(phi2))
    return math.degrees(phi2), (math.degrees(lam2) + 540) % 360 - 180


def request(rng, n):
    couriers = []
    for i in range(n):
        lat, lon = destination(*PICKUP, rng.uniform(0, 360), rng.uniform(0, 30))
        couriers.append({
            "id": f"LIV-{i:05}", "lat": lat, "lon": lon,
            "reputation": round(rng.uniform(0, 10), 1),
            "capacity_kg": float(rng.randint(5, 500)),
            "vehicle_score": SUITABILITY[rng.choice(list(SUITABILITY))],
        })
    return {
        "kind": "ranking", "pairwise": DEFAULT_MATRIX, "tolerance_km": 10.0,
        "pickup": list(PICKUP),
        "delivery": list(destination(*PICKUP, rng.uniform(0, 360), rng.uniform(1, 15))),
        "parcel_kg": None, "couriers": couriers,
    }


def main():
    rng = random.Random(42)
    print("size,runs,eligible,p50_us,p95_us,mean_us")
    for size, runs in [(10, 2000), (100, 1000), (1000, 200), (10000, 30)]:
        case = request(rng, size)
        eligible = len(ref.rank(case)["ranking"])
        for _ in range(max(1, runs // 10)):
            ref.rank(case)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            ref.rank(case)
            times.append(time.perf_counter() - t)
        times.sort()
        pct = lambda p: times[round((len(times) - 1) * p)] * 1e6  # noqa: E731
        print(f"{size},{runs},{eligible},{pct(0.5):.1f},{pct(0.95):.1f},"
              f"{sum(times) / len(times) * 1e6:.1f}")


if __name__ == "__main__":
    main()
