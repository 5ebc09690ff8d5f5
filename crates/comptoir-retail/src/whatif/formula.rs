//! The what-if formulas (documented in the README), pure so they can be unit-tested.
//!
//! For one baseline cell (a store, a category, a month) with revenue `R`, cost `C` and
//! units `U`, the levers that apply to it combine as
//!
//! ```text
//! P  = 1 + price% / 100                      price factor
//! V  = (1 + volume% / 100) × P ^ elasticity  volume factor (constant elasticity)
//! R' = R × P × V
//! C' = C × V × (1 + cost% / 100)
//! U' = U × V
//! margin' = R' − C'
//! ```
//!
//! Levers of the same kind on overlapping scopes add up (two +5 % price levers make +10 %).
//! A closed store projects zero from its closing month; an opened store projects the cells
//! of the store it is "like" from its opening month; a target change multiplies the target.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// What a lever applies to: everything in the caller's scope, or a region, a store or a
/// category (a store and a category together narrow it to that store's category).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeverScope {
    pub region_id: Option<Uuid>,
    pub store_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
}

/// One lever of a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Lever {
    /// Sale prices change by `pct` percent.
    Price {
        pct: f64,
        #[serde(default)]
        scope: LeverScope,
    },
    /// Units sold change by `pct` percent (before elasticity).
    Volume {
        pct: f64,
        #[serde(default)]
        scope: LeverScope,
    },
    /// Purchase costs change by `pct` percent.
    Cost {
        pct: f64,
        #[serde(default)]
        scope: LeverScope,
    },
    /// Price elasticity of the scope (default [`DEFAULT_ELASTICITY`]).
    Elasticity {
        value: f64,
        #[serde(default)]
        scope: LeverScope,
    },
    /// Revenue targets change by `pct` percent.
    Target {
        pct: f64,
        #[serde(default)]
        scope: LeverScope,
    },
    /// The store sells nothing from `from` (`YYYY-MM`) on.
    CloseStore { store_id: Uuid, from: String },
    /// A new store, selling like `like_store_id`, from `from` (`YYYY-MM`) on.
    OpenStore {
        name: String,
        like_store_id: Uuid,
        from: String,
    },
}

/// Elasticity when no lever sets one: a 1 % price rise loses 1 % of units.
pub const DEFAULT_ELASTICITY: f64 = -1.0;

/// Where a cell sits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CellKey {
    pub region: Uuid,
    pub store: Uuid,
    pub category: Uuid,
}

impl LeverScope {
    pub fn covers(&self, k: &CellKey) -> bool {
        self.region_id.is_none_or(|r| r == k.region)
            && self.store_id.is_none_or(|s| s == k.store)
            && self.category_id.is_none_or(|c| c == k.category)
    }
}

/// Revenue, cost and units of a cell.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Amounts {
    pub revenue: f64,
    pub cost: f64,
    pub units: f64,
}

/// The combined factors of the levers covering a cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Factors {
    pub price_pct: f64,
    pub volume_pct: f64,
    pub cost_pct: f64,
    pub elasticity: f64,
}

/// Sums the levers of each kind that cover `k`; the last elasticity lever covering it wins.
pub fn factors(levers: &[Lever], k: &CellKey) -> Factors {
    let mut f = Factors {
        price_pct: 0.0,
        volume_pct: 0.0,
        cost_pct: 0.0,
        elasticity: DEFAULT_ELASTICITY,
    };
    for lever in levers {
        match lever {
            Lever::Price { pct, scope } if scope.covers(k) => f.price_pct += pct,
            Lever::Volume { pct, scope } if scope.covers(k) => f.volume_pct += pct,
            Lever::Cost { pct, scope } if scope.covers(k) => f.cost_pct += pct,
            Lever::Elasticity { value, scope } if scope.covers(k) => f.elasticity = *value,
            _ => {}
        }
    }
    f
}

/// Applies the factors to a baseline cell.
pub fn project(base: Amounts, f: &Factors) -> Amounts {
    let p = 1.0 + f.price_pct / 100.0;
    let v = (1.0 + f.volume_pct / 100.0) * p.powf(f.elasticity);
    Amounts {
        revenue: base.revenue * p * v,
        cost: base.cost * v * (1.0 + f.cost_pct / 100.0),
        units: base.units * v,
    }
}

/// The target factor of a store.
pub fn target_factor(levers: &[Lever], k: &CellKey) -> f64 {
    1.0 + levers
        .iter()
        .map(|l| match l {
            Lever::Target { pct, scope } if scope.covers(k) => *pct,
            _ => 0.0,
        })
        .sum::<f64>()
        / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CellKey {
        CellKey {
            region: Uuid::from_u128(1),
            store: Uuid::from_u128(2),
            category: Uuid::from_u128(3),
        }
    }

    const BASE: Amounts = Amounts {
        revenue: 1000.0,
        cost: 600.0,
        units: 100.0,
    };

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn run(levers: &[Lever]) -> Amounts {
        project(BASE, &factors(levers, &key()))
    }

    fn price(pct: f64) -> Lever {
        Lever::Price {
            pct,
            scope: LeverScope::default(),
        }
    }

    fn elasticity(value: f64) -> Lever {
        Lever::Elasticity {
            value,
            scope: LeverScope::default(),
        }
    }

    #[test]
    fn all_levers_at_zero_give_the_baseline() {
        assert_eq!(run(&[]), BASE);
        let zero = [
            price(0.0),
            Lever::Volume {
                pct: 0.0,
                scope: LeverScope::default(),
            },
            Lever::Cost {
                pct: 0.0,
                scope: LeverScope::default(),
            },
        ];
        assert_eq!(run(&zero), BASE);
        assert_eq!(target_factor(&zero, &key()), 1.0);
    }

    #[test]
    fn ten_percent_price_with_zero_elasticity_is_ten_percent_revenue() {
        let a = run(&[price(10.0), elasticity(0.0)]);
        assert!(close(a.revenue, 1100.0), "{a:?}");
        assert!(close(a.units, 100.0) && close(a.cost, 600.0), "{a:?}");
    }

    #[test]
    fn unit_elasticity_keeps_revenue_and_loses_units() {
        let a = run(&[price(10.0), elasticity(-1.0)]);
        assert!(close(a.revenue, 1000.0), "{a:?}");
        assert!(
            close(a.units, 100.0 / 1.1) && close(a.cost, 600.0 / 1.1),
            "{a:?}"
        );
        // The default elasticity is -1.
        assert_eq!(run(&[price(10.0)]), a);
    }

    #[test]
    fn volume_and_cost_levers() {
        let a = run(&[Lever::Volume {
            pct: 10.0,
            scope: LeverScope::default(),
        }]);
        assert!(close(a.revenue, 1100.0) && close(a.cost, 660.0) && close(a.units, 110.0));
        let a = run(&[Lever::Cost {
            pct: -5.0,
            scope: LeverScope::default(),
        }]);
        assert!(close(a.revenue, 1000.0) && close(a.cost, 570.0) && close(a.units, 100.0));
    }

    #[test]
    fn levers_apply_only_to_their_scope_and_add_up() {
        let other_store = LeverScope {
            store_id: Some(Uuid::from_u128(9)),
            ..Default::default()
        };
        let this_category = LeverScope {
            category_id: Some(Uuid::from_u128(3)),
            ..Default::default()
        };
        assert_eq!(
            run(&[Lever::Price {
                pct: 10.0,
                scope: other_store
            }]),
            BASE
        );
        let f = factors(
            &[
                Lever::Price {
                    pct: 5.0,
                    scope: this_category.clone(),
                },
                price(5.0),
                Lever::Target {
                    pct: 20.0,
                    scope: this_category,
                },
            ],
            &key(),
        );
        assert!(close(f.price_pct, 10.0));
        assert!(close(
            target_factor(
                &[Lever::Target {
                    pct: 20.0,
                    scope: LeverScope::default()
                }],
                &key()
            ),
            1.2
        ));
    }
}
