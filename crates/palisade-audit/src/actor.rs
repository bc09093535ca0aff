//! Who acts: the user, request and client an event belongs to.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

/// The user, organization, request id and client address of the request an event happened
/// in. Emitters fill it from an [`ActorSource`] (palisade-web's request context) and may set
/// the user themselves (the name a failed sign-in claimed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// The authenticated user, or the claimed one for [`AuthFailed`](crate::SecurityKind::AuthFailed).
    pub user: Option<Arc<str>>,
    /// The user's organization (tenant).
    pub organization: Option<Arc<str>>,
    /// The request's id.
    pub request_id: Option<Arc<str>>,
    /// The client's address, as the trusted proxies report it.
    pub client: Option<IpAddr>,
}

impl Actor {
    /// No user, request or client.
    #[must_use]
    pub const fn none() -> Self {
        Self {
            user: None,
            organization: None,
            request_id: None,
            client: None,
        }
    }

    /// This actor with `user` as its user.
    #[must_use]
    pub fn with_user(mut self, user: impl Into<Arc<str>>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// This actor with `client` as its client address.
    #[must_use]
    pub fn with_client(mut self, client: IpAddr) -> Self {
        self.client = Some(client);
        self
    }

    /// Fills each field this actor lacks from `other`.
    #[must_use]
    pub(crate) fn or(mut self, other: Self) -> Self {
        self.user = self.user.or(other.user);
        self.organization = self.organization.or(other.organization);
        self.request_id = self.request_id.or(other.request_id);
        self.client = self.client.or(other.client);
        self
    }
}

/// Where an [`Audit`](crate::Audit) learns who acts, read on the emitting task (a request's
/// task-local context lives there, not on the audit thread). palisade-web's request context
/// implements it behind its `audit` feature.
pub trait ActorSource: Send + Sync + fmt::Debug + 'static {
    /// The actor of the current task, or [`Actor::none`] outside a request.
    fn current(&self) -> Actor;
}

/// The source for services without request contexts: nobody.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoActor;

impl ActorSource for NoActor {
    fn current(&self) -> Actor {
        Actor::none()
    }
}
