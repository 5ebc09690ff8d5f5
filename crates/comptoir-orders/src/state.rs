//! The order state machine, as a pure function: [`transition`] says whether a change is
//! legal and which outbox event it emits. Storage guards every change with a conditional
//! `UPDATE ... WHERE status = from`, so two racing changes cannot both win.
//!
//! ```text
//! received ─► validated ─► stock_reserved ─► confirmed ─► invoiced ─► shipped ─► delivered
//!    │  ╲          │  ╲           │  ╲            │   ╲________________╱▲
//!    │   rejected  │   rejected   │   failed      ╰──────────────────────╯
//!    ╰► failed ◄───╯              │
//! cancelled ◄── received, validated, stock_reserved, confirmed, invoiced, failed
//! failed ──► received (replay of its dead letter)
//! ```

use comptoir_kernel::{AppError, ErrorCode};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// Where an order is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Received,
    Validated,
    StockReserved,
    Confirmed,
    Invoiced,
    Shipped,
    Delivered,
    Rejected,
    Cancelled,
    Failed,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Received,
        Status::Validated,
        Status::StockReserved,
        Status::Confirmed,
        Status::Invoiced,
        Status::Shipped,
        Status::Delivered,
        Status::Rejected,
        Status::Cancelled,
        Status::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Validated => "validated",
            Status::StockReserved => "stock_reserved",
            Status::Confirmed => "confirmed",
            Status::Invoiced => "invoiced",
            Status::Shipped => "shipped",
            Status::Delivered => "delivered",
            Status::Rejected => "rejected",
            Status::Cancelled => "cancelled",
            Status::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// No transition leaves it.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Delivered | Status::Rejected | Status::Cancelled
        )
    }

    /// The pipeline is done with it (the worker has nothing more to do).
    pub fn is_processed(self) -> bool {
        !matches!(
            self,
            Status::Received | Status::Validated | Status::StockReserved
        )
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a legal transition produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub from: Status,
    pub to: Status,
    /// The outbox event written with the change, if any.
    pub event: Option<&'static str>,
}

/// Whether `from → to` is legal: `Ok` with its event, else 409 `invalid_transition` with
/// both states in `details`.
pub fn transition(from: Status, to: Status) -> Result<Step, AppError> {
    use Status::*;
    let event = match (from, to) {
        (Received, Validated) | (Validated, StockReserved) => None,
        (StockReserved, Confirmed) => Some("order.confirmed"),
        (Received | Validated, Rejected) => Some("order.rejected"),
        (Received | Validated | StockReserved, Failed) => Some("order.failed"),
        (Failed, Received) => Some("order.replayed"),
        (Received | Validated | StockReserved | Confirmed | Invoiced | Failed, Cancelled) => {
            Some("order.cancelled")
        }
        (Confirmed, Invoiced) => Some("order.invoiced"),
        (Confirmed | Invoiced, Shipped) => Some("order.shipped"),
        (Shipped, Delivered) => Some("order.delivered"),
        _ => {
            return Err(AppError::new(
                ErrorCode::InvalidTransition,
                format!("an order that is {from} cannot become {to}"),
            )
            .with_details(json!({"from": from, "to": to})));
        }
    };
    Ok(Step { from, to, event })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    const LEGAL: [(Status, Status); 19] = [
        (Received, Validated),
        (Validated, StockReserved),
        (StockReserved, Confirmed),
        (Received, Rejected),
        (Validated, Rejected),
        (Received, Failed),
        (Validated, Failed),
        (StockReserved, Failed),
        (Failed, Received),
        (Received, Cancelled),
        (Validated, Cancelled),
        (StockReserved, Cancelled),
        (Confirmed, Cancelled),
        (Invoiced, Cancelled),
        (Failed, Cancelled),
        (Confirmed, Invoiced),
        (Confirmed, Shipped),
        (Invoiced, Shipped),
        (Shipped, Delivered),
    ];

    #[test]
    fn every_legal_transition_is_allowed() {
        for (from, to) in LEGAL {
            let step = transition(from, to).unwrap_or_else(|e| panic!("{from} → {to}: {e}"));
            assert_eq!((step.from, step.to), (from, to));
        }
    }

    #[test]
    fn everything_else_is_refused_with_a_stable_code() {
        let mut allowed = 0;
        for from in Status::ALL {
            for to in Status::ALL {
                let legal = LEGAL.contains(&(from, to));
                match transition(from, to) {
                    Ok(_) => {
                        assert!(legal, "{from} → {to} should be refused");
                        allowed += 1;
                    }
                    Err(e) => {
                        assert!(!legal, "{from} → {to} should be allowed");
                        assert_eq!(e.code.as_str(), "invalid_transition");
                        assert_eq!(e.code.status().as_u16(), 409);
                        assert_eq!(e.details["from"], from.as_str());
                        assert_eq!(e.details["to"], to.as_str());
                    }
                }
            }
        }
        assert_eq!(allowed, 19);
    }

    #[test]
    fn terminal_states_have_no_way_out() {
        for from in Status::ALL.into_iter().filter(|s| s.is_terminal()) {
            for to in Status::ALL {
                assert!(transition(from, to).is_err(), "{from} → {to}");
            }
        }
    }

    #[test]
    fn the_issue_examples_are_refused() {
        assert!(transition(Cancelled, Shipped).is_err());
        assert!(transition(Delivered, Cancelled).is_err());
        assert!(transition(Rejected, Confirmed).is_err());
        assert!(transition(Shipped, Cancelled).is_err());
    }

    #[test]
    fn public_changes_emit_their_event() {
        assert_eq!(
            transition(StockReserved, Confirmed).unwrap().event,
            Some("order.confirmed")
        );
        assert_eq!(
            transition(Validated, Rejected).unwrap().event,
            Some("order.rejected")
        );
        assert_eq!(
            transition(Invoiced, Cancelled).unwrap().event,
            Some("order.cancelled")
        );
        assert_eq!(
            transition(Confirmed, Shipped).unwrap().event,
            Some("order.shipped")
        );
        assert_eq!(transition(Received, Validated).unwrap().event, None);
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(Status::parse("queued"), None);
    }
}
