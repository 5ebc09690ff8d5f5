//! SeaORM entities of the order tables; all tenant-scoped. Money in ten-thousandths
//! (`*_e4`), as in the catalog.

pub mod connectors;
pub mod customers;
pub mod history;
pub mod lines;
pub mod orders;
pub mod outbox;
