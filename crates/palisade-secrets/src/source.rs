//! The `SecretSource` trait and its named future, `Fetch`.

use std::fmt::Debug;
use std::future::{Future, Ready};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::{SecretError, SecretRef, SecretValue};

/// What a fetch resolves to.
pub type FetchResult = Result<SecretValue, SecretError>;

/// The future a [`SecretSource`] returns: boxed for sources that await, and a no-allocation
/// ready value for sources that never do (environment, files), as aws-credential-types'
/// `ProvideCredentials` future.
#[must_use = "a fetch does nothing until awaited"]
pub struct Fetch<'a>(Inner<'a>);

enum Inner<'a> {
    Ready(Ready<FetchResult>),
    Boxed(Pin<Box<dyn Future<Output = FetchResult> + Send + 'a>>),
}

impl<'a> Fetch<'a> {
    /// A fetch that awaits `future`.
    pub fn new(future: impl Future<Output = FetchResult> + Send + 'a) -> Self {
        Self(Inner::Boxed(Box::pin(future)))
    }

    /// A fetch that is already done; allocates nothing.
    pub fn ready(result: FetchResult) -> Self {
        Self(Inner::Ready(std::future::ready(result)))
    }
}

impl Future for Fetch<'_> {
    type Output = FetchResult;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            Inner::Ready(ready) => Pin::new(ready).poll(cx),
            Inner::Boxed(future) => future.as_mut().poll(cx),
        }
    }
}

impl Debug for Fetch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.0 {
            Inner::Ready(_) => "ready",
            Inner::Boxed(_) => "pending",
        };
        f.debug_tuple("Fetch").field(&kind).finish()
    }
}

/// A place secrets live. Object-safe: held as `Arc<dyn SecretSource>`.
///
/// A source applies the reference's `#field` itself (most with
/// [`select_field`](crate::select_field)), so what it returns is what the reference names.
///
/// ```
/// use palisade_secrets::{Fetch, SecretError, SecretRef, SecretSource, SecretValue};
///
/// /// A source with one fixed secret, for illustration.
/// #[derive(Debug)]
/// struct Fixed;
///
/// impl SecretSource for Fixed {
///     fn fetch<'a>(&'a self, reference: &'a SecretRef) -> Fetch<'a> {
///         match reference.locator() {
///             "answer" => Fetch::ready(Ok(SecretValue::from_string("42".into()))),
///             _ => Fetch::ready(Err(SecretError::NotFound { reference: reference.clone() })),
///         }
///     }
/// }
///
/// # tokio_test_block_on(async {
/// let value = Fixed.fetch(&"fixed:answer".parse()?).await?;
/// assert_eq!(value.expose_str(), Some("42"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait SecretSource: Send + Sync + Debug {
    /// Fetches the secret `reference` names.
    ///
    /// # Errors
    /// [`SecretError::NotFound`] when this source does not have it; any other variant when
    /// the source failed to answer or the value does not fit the reference.
    fn fetch<'a>(&'a self, reference: &'a SecretRef) -> Fetch<'a>;
}
