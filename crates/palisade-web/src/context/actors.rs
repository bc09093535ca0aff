//! The `audit` feature: the request context as palisade-audit's source of who acts.

use palisade_audit::{Actor, ActorSource};

use super::{CURRENT, RequestContext};

/// Tells palisade-audit who acts: the user, organization, request id and client address of
/// the request context current on the emitting task ([`Actor::none`] outside a request).
///
/// ```
/// use std::sync::Arc;
/// use palisade_audit::Audit;
/// use palisade_web::context::ContextActors;
///
/// let audit = Audit::builder().actors(Arc::new(ContextActors)).build();
/// # drop(audit);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ContextActors;

impl ActorSource for ContextActors {
    fn current(&self) -> Actor {
        CURRENT
            .try_with(RequestContext::actor)
            .unwrap_or_else(|_| Actor::none())
    }
}

impl RequestContext {
    /// This request as palisade-audit's actor.
    fn actor(&self) -> Actor {
        let identity = self.0.identity.get();
        Actor {
            user: identity.map(|i| std::sync::Arc::clone(&i.user)),
            organization: identity.and_then(|i| i.organization.clone()),
            request_id: Some(self.request_id().as_str().into()),
            client: self.client(),
        }
    }
}
