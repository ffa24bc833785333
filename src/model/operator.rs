//! A console user as the API and the events show it (docs/API.md → Operator).

use serde::{Deserialize, Serialize};

stored_enum! {
    pub enum Role: "operator role" {
        Admin = "admin",
        Operator = "operator",
    }
}

stored_enum! {
    pub enum Status: "operator status" {
        Online = "online",
        Away = "away",
        Offline = "offline",
    }
}

// Fields in alphabetical order: see the module docs of [`crate::model`].
/// A console user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Operator {
    /// False once an admin deactivated them: they cannot log in, and their sessions and
    /// tokens are gone.
    pub active: bool,
    pub email: String,
    pub id: i64,
    pub name: String,
    pub notify: Notify,
    pub role: Role,
    pub status: Status,
}

/// The messengers an operator linked for notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Notify {
    pub discord: bool,
    pub telegram: bool,
}

impl Operator {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_statuses_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(*r));
        }
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Ok(*s));
        }
        assert!(Role::parse("owner").is_err());
        assert!(Status::parse("busy").is_err());
    }
}
