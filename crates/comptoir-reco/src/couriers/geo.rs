//! Great-circle distances and the elliptical eligibility zone (phase 1).
//!
//! Distances use the haversine formula on a sphere of radius [`EARTH_RADIUS_KM`]. The seed
//! does not name a radius; we use the IUGG mean Earth radius R1 = 6371.0088 km. The
//! spherical model is off by at most ~0.5 % from the ellipsoid, far below the tolerances
//! (3 to 10 km) the filter works with.

use super::model::Coordinates;

/// Mean Earth radius (IUGG R1), in kilometres.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// A point with its trigonometry precomputed, because the foci are compared with every
/// candidate and `cos(lat)` would otherwise be recomputed twice per candidate.
#[derive(Debug, Clone, Copy)]
pub struct GeoPoint {
    lat: f64,
    lon: f64,
    cos_lat: f64,
}

impl GeoPoint {
    /// Prepares a validated coordinate for repeated distance computations.
    pub fn new(c: Coordinates) -> Self {
        let lat = c.latitude().to_radians();
        Self {
            lat,
            lon: c.longitude().to_radians(),
            cos_lat: lat.cos(),
        }
    }

    /// Haversine distance to `other`, in kilometres.
    pub fn distance_km(&self, other: &GeoPoint) -> f64 {
        let sin_dlat = ((other.lat - self.lat) * 0.5).sin();
        let sin_dlon = ((other.lon - self.lon) * 0.5).sin();
        let h = sin_dlat * sin_dlat + self.cos_lat * other.cos_lat * sin_dlon * sin_dlon;
        // Rounding can push h a hair above 1 for antipodal points; asin would return NaN.
        2.0 * EARTH_RADIUS_KM * h.clamp(0.0, 1.0).sqrt().asin()
    }
}

/// Haversine distance between two coordinates, in kilometres.
pub fn haversine_km(a: Coordinates, b: Coordinates) -> f64 {
    GeoPoint::new(a).distance_km(&GeoPoint::new(b))
}

/// The eligibility zone of a delivery: every point whose detour through it, from pickup to
/// delivery, is at most `2 × tolerance` longer than the direct route. On a sphere this is
/// the set { c : d(c, pickup) + d(c, delivery) ≤ d(pickup, delivery) + 2 × tolerance }.
#[derive(Debug, Clone, Copy)]
pub struct Ellipse {
    pickup: GeoPoint,
    delivery: GeoPoint,
    max_sum_km: f64,
}

/// Where a candidate stands relative to an [`Ellipse`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EllipseCheck {
    /// d(candidate, pickup), in km (also the proximity criterion of the ranking).
    pub to_pickup_km: f64,
    /// d(candidate, delivery), in km.
    pub to_delivery_km: f64,
    /// Whether the candidate is inside the zone (boundary included).
    pub inside: bool,
}

impl Ellipse {
    /// Builds the zone for a route and a tolerance in kilometres (validated as finite, ≥ 0).
    pub fn new(pickup: Coordinates, delivery: Coordinates, tolerance_km: f64) -> Self {
        let pickup = GeoPoint::new(pickup);
        let delivery = GeoPoint::new(delivery);
        let max_sum_km = pickup.distance_km(&delivery) + 2.0 * tolerance_km;
        Self {
            pickup,
            delivery,
            max_sum_km,
        }
    }

    /// The largest admissible d(c, pickup) + d(c, delivery), in km.
    pub fn max_sum_km(&self) -> f64 {
        self.max_sum_km
    }

    /// Measures a candidate against the zone.
    pub fn check(&self, candidate: Coordinates) -> EllipseCheck {
        let c = GeoPoint::new(candidate);
        let to_pickup_km = c.distance_km(&self.pickup);
        let to_delivery_km = c.distance_km(&self.delivery);
        EllipseCheck {
            to_pickup_km,
            to_delivery_km,
            inside: to_pickup_km + to_delivery_km <= self.max_sum_km,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(lat: f64, lon: f64) -> Coordinates {
        Coordinates::new(lat, lon, "test").expect("valid test coordinates")
    }

    #[test]
    fn known_distances() {
        // Paris (Notre-Dame) to London (Trafalgar Sq.): ~343.5 km on the mean sphere.
        let d = haversine_km(c(48.8530, 2.3499), c(51.5080, -0.1281));
        assert!((d - 343.5).abs() < 1.0, "{d}");
        // A quarter meridian is πR/2.
        let q = haversine_km(c(0.0, 0.0), c(90.0, 0.0));
        assert!((q - std::f64::consts::FRAC_PI_2 * EARTH_RADIUS_KM).abs() < 1e-9);
    }

    #[test]
    fn antipodes_and_antimeridian_are_finite() {
        let d = haversine_km(c(0.0, 0.0), c(0.0, 180.0));
        assert!((d - std::f64::consts::PI * EARTH_RADIUS_KM).abs() < 1e-6);
        let across = haversine_km(c(0.0, 179.99), c(0.0, -179.99));
        assert!(across < 2.3 && across > 2.2, "{across}");
    }

    #[test]
    fn foci_are_inside_and_far_points_outside() {
        let e = Ellipse::new(c(48.85, 2.35), c(48.87, 2.29), 5.0);
        assert!(e.check(c(48.85, 2.35)).inside);
        assert!(e.check(c(48.87, 2.29)).inside);
        assert!(!e.check(c(45.76, 4.83)).inside); // Lyon
    }
}
