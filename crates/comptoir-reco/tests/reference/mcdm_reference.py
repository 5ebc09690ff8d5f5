#!/usr/bin/env python3
"""Reference implementation of the courier ranking, built on pymcdm, for comptoir-reco's
tests (tests/reference_mcdm.rs) and benchmark (bench/ranking_reference.py).

Reads {"cases": [...]} as JSON on stdin and writes {"results": [...]} on stdout, one result
per case, in order. Two kinds of case:

* "mcdm": {"pairwise": n x n matrix, "matrix": m x 4 decision matrix (may be empty),
  "types": [1 | -1] * 4}. Returns the AHP weights, lambda_max, CI, CR and TOPSIS closeness.
* "ranking": a whole ranking (ellipse filter, capacity, AHP, TOPSIS), see rank().

What pymcdm computes, read from its source (pymcdm 1.4.0):
* AHP weights (weights/subjective/ahp.py, _matrix_to_weights): numpy.linalg.eig, the
  eigenvector of the eigenvalue of largest modulus, real part, divided by its sum. That is
  the textbook principal (Perron) eigenvector, so it is used as is.
* AHP CR (get_cr): lambda_max = max real eigenvalue, CI = (lambda_max - n) / (n - 1), but
  divided by the random index of Tummala & Ling (1998) (RI_M, 0.8921 for n = 4), not
  Saaty's (0.90 for n = 4). We recover CI = CR_pymcdm * RI_M[n-1] and divide it by Saaty's
  RI, which the spec asks for; both CRs are reported.
* TOPSIS with normalizations.vector_normalization: x / ||x|| for a profit column and
  1 - x / ||x|| for a cost column, then ideal = column max, anti-ideal = column min. The
  affine map r -> 1 - r preserves distances, so this equals the textbook TOPSIS (ideal =
  min of a cost column) exactly, up to rounding.
* pymcdm's TOPSIS yields NaN when every alternative is identical (0 / 0); the Rust code
  answers 1 there (a single eligible courier is the best available). rank() applies the
  same convention so that whole rankings compare.
"""
import json
import math
import sys

import numpy as np
from pymcdm.methods import TOPSIS
from pymcdm.normalizations import vector_normalization
from pymcdm.weights.subjective import AHP

EARTH_RADIUS_KM = 6371.0088
SAATY_RI = [0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49]
# Criteria: distance to pickup (cost), reputation, capacity, vehicle suitability (benefits).
COURIER_TYPES = np.array([-1, 1, 1, 1])
_TOPSIS = TOPSIS(normalization_function=vector_normalization)


def ahp(pairwise):
    m = np.array(pairwise, dtype=float)
    n = m.shape[0]
    model = AHP(matrix=m)
    weights = model()
    cr_pymcdm = float(model.get_cr())
    ci = cr_pymcdm * AHP.RI_M[n - 1] if n >= 3 else 0.0
    lambda_max = float(max(np.linalg.eigvals(m).real))
    cr = ci / SAATY_RI[n - 1] if SAATY_RI[n - 1] > 0 else 0.0
    return {
        "weights": [float(w) for w in weights],
        "lambda_max": lambda_max,
        "ci": ci,
        "cr": cr,
        "cr_pymcdm": cr_pymcdm,
    }


def topsis(matrix, weights, types):
    matrix = np.array(matrix, dtype=float)
    if len(matrix) == 0:
        return []
    if len(matrix) == 1 or np.all(matrix == matrix[0]):
        return [1.0] * len(matrix)
    return [float(p) for p in _TOPSIS(matrix, np.array(weights), np.array(types), validation=False)]


def haversine_km(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2) - np.radians(lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def rank(case):
    """Whole ranking. case: {"pairwise", "tolerance_km", "pickup": [lat, lon],
    "delivery": [lat, lon], "parcel_kg": number | null,
    "couriers": [{"id", "lat", "lon", "reputation", "capacity_kg", "vehicle_score"}]}."""
    w = ahp(case["pairwise"])
    couriers = case["couriers"]
    lat = np.array([c["lat"] for c in couriers], dtype=float)
    lon = np.array([c["lon"] for c in couriers], dtype=float)
    cap = np.array([c["capacity_kg"] for c in couriers], dtype=float)
    (plat, plon), (dlat, dlon) = case["pickup"], case["delivery"]
    to_pickup = haversine_km(lat, lon, plat, plon)
    to_delivery = haversine_km(lat, lon, dlat, dlon)
    limit = float(haversine_km(plat, plon, dlat, dlon)) + 2 * case["tolerance_km"]
    parcel = case.get("parcel_kg")
    enough = cap >= parcel if parcel is not None else np.ones(len(couriers), dtype=bool)
    inside = to_pickup + to_delivery <= limit
    keep = enough & inside
    matrix = np.column_stack([
        to_pickup,
        [c["reputation"] for c in couriers],
        cap,
        [c["vehicle_score"] for c in couriers],
    ])[keep]
    scores = topsis(matrix, w["weights"], COURIER_TYPES)
    ids = [c["id"] for c, k in zip(couriers, keep) if k]
    order = sorted(range(len(ids)), key=lambda i: -scores[i])  # stable, like the Rust sort
    return {
        "ranking": [{"livreur_id": ids[i], "score_final": scores[i]} for i in order],
        "weights": w["weights"],
        "cr": w["cr"],
        "rejected_capacity": int((~enough).sum()),
        "rejected_zone": int((enough & ~inside).sum()),
    }


def run(case):
    if case["kind"] == "ranking":
        return rank(case)
    out = ahp(case["pairwise"])
    out["closeness"] = topsis(case.get("matrix", []), out["weights"], case["types"])
    return out


def main():
    cases = json.load(sys.stdin)["cases"]
    results = [run(c) for c in cases]
    for r in results:
        for k, v in r.items():
            if isinstance(v, float) and not math.isfinite(v):
                raise SystemExit(f"non-finite {k} in reference output: {r}")
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
