//! Which orders a caller sees. Orders belong to the organization; retail roles see less: a
//! store manager sees the orders reserved at their store, a regional manager the orders
//! reserved at their region's stores (stores are catalog locations, the chain's structure
//! comes from the retail slice). Orders not reserved anywhere yet (received, rejected
//! before reservation) are seen by the roles that see the whole organization only. An
//! order outside the caller's scope is answered 404, like another tenant's.

use comptoir_kernel::AppResult;
use comptoir_kernel::auth::{Caller, Role};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// The orders a caller sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderScope {
    /// Every order of the organization.
    All,
    /// The orders reserved at one of these locations (sorted).
    Locations(Vec<Uuid>),
}

impl OrderScope {
    /// The scope of `caller`: managers by their region or store, every other role the
    /// whole organization.
    pub async fn of(db: &impl ConnectionTrait, caller: &Caller) -> AppResult<OrderScope> {
        match caller.role {
            Role::RegionalManager | Role::StoreManager => {
                let mut ids: Vec<Uuid> = comptoir_retail::scope::visible_stores(db, caller)
                    .await?
                    .into_iter()
                    .map(|s| s.id)
                    .collect();
                ids.sort_unstable();
                Ok(OrderScope::Locations(ids))
            }
            Role::Owner | Role::Admin | Role::Director | Role::Analyst | Role::Operator => {
                Ok(OrderScope::All)
            }
        }
    }

    /// Whether an order reserved at `location` is in the scope.
    pub fn admits(&self, location: Option<Uuid>) -> bool {
        match self {
            OrderScope::All => true,
            OrderScope::Locations(ids) => location.is_some_and(|l| ids.binary_search(&l).is_ok()),
        }
    }

    /// A stable part of a cache key: results computed for one scope are never served to
    /// another.
    pub fn key(&self) -> String {
        match self {
            OrderScope::All => "all".to_owned(),
            OrderScope::Locations(ids) => {
                let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
                format!("loc[{}]", ids.join(","))
            }
        }
    }

    /// The location ids to filter on, or `None` for the whole organization.
    pub fn locations(&self) -> Option<&[Uuid]> {
        match self {
            OrderScope::All => None,
            OrderScope::Locations(ids) => Some(ids),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_admits_everything_locations_only_theirs() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        assert!(OrderScope::All.admits(None));
        assert!(OrderScope::All.admits(Some(a)));
        let s = OrderScope::Locations(vec![a]);
        assert!(s.admits(Some(a)));
        assert!(!s.admits(Some(b)));
        assert!(!s.admits(None), "an unreserved order is not a store's");
        assert!(!OrderScope::Locations(vec![]).admits(Some(a)));
    }

    #[test]
    fn keys_differ_by_scope() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let keys = [
            OrderScope::All.key(),
            OrderScope::Locations(vec![]).key(),
            OrderScope::Locations(vec![a]).key(),
            OrderScope::Locations(vec![a, b]).key(),
        ];
        for (i, k) in keys.iter().enumerate() {
            for other in &keys[i + 1..] {
                assert_ne!(k, other);
            }
        }
    }
}
