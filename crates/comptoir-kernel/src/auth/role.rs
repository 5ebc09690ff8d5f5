//! Roles (PRODUCT.md A), what each may do, and API-key scopes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A member's role in one organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Director,
    /// Sees one region (`region_id` on the membership).
    RegionalManager,
    /// Sees one store (`store_id` on the membership).
    StoreManager,
    /// Reads everything, changes nothing.
    Analyst,
    Operator,
}

/// Something a caller may or may not do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Add, change and remove members.
    ManageMembers,
    /// See and revoke every API key of the organization (not only one's own).
    ManageAllApiKeys,
    /// Read the audit log.
    ViewAudit,
    /// Create, change or delete business data.
    Write,
    /// See dead letters and replay them.
    ManageJobs,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Owner,
        Role::Admin,
        Role::Director,
        Role::RegionalManager,
        Role::StoreManager,
        Role::Analyst,
        Role::Operator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Director => "director",
            Role::RegionalManager => "regional_manager",
            Role::StoreManager => "store_manager",
            Role::Analyst => "analyst",
            Role::Operator => "operator",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn can(self, permission: Permission) -> bool {
        use Permission::*;
        match permission {
            ManageMembers | ManageAllApiKeys | ViewAudit | ManageJobs => {
                matches!(self, Role::Owner | Role::Admin)
            }
            Write => self != Role::Analyst,
        }
    }

    /// Whether a member with this role may give `other` to a member or an API key.
    pub fn can_grant(self, other: Role) -> bool {
        match self {
            Role::Owner => true,
            Role::Admin => other != Role::Owner,
            // Others may only hand out their own role or read-only access (API keys).
            own => other == own || other == Role::Analyst,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an API key may do on top of its role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// GET and HEAD requests.
    Read,
    /// Everything else (still limited by the role).
    Write,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }

    pub fn parse_list(s: &str) -> Vec<Scope> {
        s.split(',')
            .filter_map(|p| match p.trim() {
                "read" => Some(Scope::Read),
                "write" => Some(Scope::Write),
                _ => None,
            })
            .collect()
    }

    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_analyst_is_read_only() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        assert!(!Role::Analyst.can(Permission::Write));
        assert!(Role::Operator.can(Permission::Write));
        assert!(!Role::Director.can(Permission::ManageMembers));
        assert!(Role::Admin.can(Permission::ManageMembers));
    }

    #[test]
    fn nobody_grants_more_than_they_have() {
        assert!(!Role::Admin.can_grant(Role::Owner));
        assert!(Role::Owner.can_grant(Role::Owner));
        assert!(!Role::StoreManager.can_grant(Role::Director));
        assert!(Role::StoreManager.can_grant(Role::Analyst));
        assert_eq!(
            Scope::parse_list("read,write,bogus"),
            vec![Scope::Read, Scope::Write]
        );
    }
}
