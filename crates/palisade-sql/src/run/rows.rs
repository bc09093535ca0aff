//! `RowStream`: a guarded statement's rows as a stream, which ends its audit event however
//! the stream ends.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use futures_util::stream::BoxStream;

use super::{Driver, QueryError, Running};

/// The rows of [`GuardedQuery::fetch`](super::GuardedQuery::fetch), each a
/// `Result<DB::Row, QueryError>`. With the `audit` feature its end event is emitted when it
/// ends, fails, or is dropped early.
pub struct RowStream<'e, DB: Driver> {
    rows: Option<BoxStream<'e, Result<DB::Row, sqlx::Error>>>,
    refused: Option<QueryError>,
    running: Option<Running>,
    #[cfg(feature = "audit")]
    read: u64,
}

impl<DB: Driver> fmt::Debug for RowStream<'_, DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RowStream")
            .field("refused", &self.refused)
            .finish_non_exhaustive()
    }
}

impl<'e, DB: Driver> RowStream<'e, DB> {
    pub(super) fn new(rows: BoxStream<'e, Result<DB::Row, sqlx::Error>>, running: Running) -> Self {
        Self {
            rows: Some(rows),
            refused: None,
            running: Some(running),
            #[cfg(feature = "audit")]
            read: 0,
        }
    }

    pub(super) fn refused(error: QueryError) -> Self {
        Self {
            rows: None,
            refused: Some(error),
            running: None,
            #[cfg(feature = "audit")]
            read: 0,
        }
    }

    /// Ends the audit event with `result` (once).
    fn end(&mut self, result: &Result<(), QueryError>) {
        if let Some(running) = self.running.take() {
            #[cfg(feature = "audit")]
            let read = self.read;
            #[cfg(not(feature = "audit"))]
            let read = 0;
            super::finish(running, result, |()| Some(read));
        }
    }
}

impl<DB: Driver> Stream for RowStream<'_, DB> {
    type Item = Result<DB::Row, QueryError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(refused) = this.refused.take() {
            return Poll::Ready(Some(Err(refused)));
        }
        let Some(rows) = this.rows.as_mut() else {
            return Poll::Ready(None);
        };
        match rows.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(row))) => {
                #[cfg(feature = "audit")]
                {
                    this.read += 1;
                }
                Poll::Ready(Some(Ok(row)))
            }
            Poll::Ready(Some(Err(error))) => {
                let error = QueryError::from(error);
                let failed = Err(error);
                this.end(&failed);
                this.rows = None;
                Poll::Ready(failed.err().map(Err))
            }
            Poll::Ready(None) => {
                this.end(&Ok(()));
                this.rows = None;
                Poll::Ready(None)
            }
        }
    }
}

impl<DB: Driver> Drop for RowStream<'_, DB> {
    fn drop(&mut self) {
        #[cfg(feature = "audit")]
        if let Some(Some(mut running)) = self.running.take() {
            running.add_rows(self.read);
            // Dropping it emits the end as abandoned, with the rows read.
        }
    }
}
