//! The typed session a verified token describes: user, session, organisation, role, permissions,
//! actor. Built from both Clerk claim shapes (v1 `org_*` claims and the v2 compact `o`/`fea`/`fpm`).

use crate::token::machine_token::{MachineIdentity, TokenType};
use serde::Serialize;
use serde_json::{Map, Value};

/// A verified session. Field names are the CLI's and `/__edgegate/session`'s JSON interface.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Auth {
    /// `sub`: the user's id.
    pub user_id: String,
    /// `sid`: the session's id, when present.
    pub session_id: Option<String>,
    /// `sts`: the session's status (e.g. `pending`), when present.
    pub session_status: Option<String>,
    /// The active organisation's id (`org_id`, or v2's `o.id`).
    pub org_id: Option<String>,
    /// The role in the active organisation (`org_role`, or v2's `o.rol` as `org:<role>`).
    pub org_role: Option<String>,
    /// The active organisation's slug (`org_slug`, or v2's `o.slg`).
    pub org_slug: Option<String>,
    /// The organisation permissions (`org_permissions`, or decoded from v2's `fea`, `o.per`
    /// and `o.fpm`).
    pub org_permissions: Vec<String>,
    /// The `act` claim (impersonation), as sent.
    pub actor: Option<Value>,
    /// The `fva` claim: minutes since first and second factor verification.
    pub factor_verification_age: Option<[i64; 2]>,
    /// `exp`, seconds since the epoch.
    #[serde(skip)]
    pub expires_at: i64,
    /// `iat`, seconds since the epoch, when present.
    #[serde(skip)]
    pub issued_at: Option<i64>,
    /// Every claim of the payload, for `FORWARD_CLAIMS`.
    #[serde(skip)]
    pub claims: Map<String, Value>,
    /// A machine token's identity (M2M or OAuth access token); `None` for a session. A machine
    /// token has no session, organisation, actor or factor ages: those fields stay empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine: Option<MachineIdentity>,
}

impl Auth {
    /// The impersonator's user id (`act.sub`), when the session is an impersonation.
    pub fn actor_id(&self) -> Option<&str> {
        self.actor.as_ref()?.get("sub")?.as_str()
    }

    /// `session_token`, `m2m_token` or `oauth_token`.
    pub fn token_type(&self) -> TokenType {
        self.machine
            .as_ref()
            .map_or(TokenType::Session, |m| m.token_type)
    }

    /// The user the request acts for: the session's user, an OAuth token's user (`sub`); `None`
    /// for an M2M token, whose subject is a machine.
    pub fn user(&self) -> Option<&str> {
        match self.token_type() {
            TokenType::M2m => None,
            TokenType::Session | TokenType::OAuth => Some(&self.user_id),
        }
    }
}
