//! Request bodies read with a bound and a deadline.
//!
//! Every listener wraps each request body in a [`DeadlineBody`]: once a handler starts reading
//! it, the whole body must arrive within the listener's body-read timeout. [`read_bounded`] is
//! how handlers read a body: it refuses a declared or actual length over the limit (413), a
//! body that stopped arriving (408) and broken framing or a body cut short (400), each as a
//! problem.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use http_body::{Frame, SizeHint};
use http_body_util::LengthLimitError;

use crate::problem::{ApiError, ServerError};

/// The error a [`DeadlineBody`] yields when its deadline has passed.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within the body-read timeout")]
pub struct BodyTimedOut;

/// A body that fails with [`BodyTimedOut`] when it is not complete `timeout` after its first read.
pub struct DeadlineBody<B> {
    inner: B,
    timeout: Duration,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<B> DeadlineBody<B> {
    /// Wrap `inner`; the clock starts at the first read.
    pub fn new(inner: B, timeout: Duration) -> Self {
        Self { inner, timeout, deadline: None }
    }
}

impl<B> http_body::Body for DeadlineBody<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let timeout = this.timeout;
        let deadline = this.deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(BodyTimedOut.into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn caused_by<E: std::error::Error + 'static>(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<E>() {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Read a whole body of at most `limit` bytes. A `Content-Length` over the limit is refused
/// before any byte is read; `too_large` is the answer for either kind of excess.
pub async fn read_bounded(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    too_large: impl FnOnce() -> ApiError,
) -> Result<Bytes, ApiError> {
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    if http_body::Body::is_end_stream(&body) {
        // No body at all (a GET, say): nothing to collect.
        return Ok(Bytes::new());
    }
    match axum::body::to_bytes(body, limit).await {
        Ok(b) => Ok(b),
        Err(e) => {
            let e: &(dyn std::error::Error + 'static) = &e;
            if caused_by::<LengthLimitError>(e) {
                Err(too_large())
            } else if caused_by::<BodyTimedOut>(e) {
                Err(ServerError::BodyTimedOut.into())
            } else {
                Err(ServerError::BodyMalformed.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn excess_lateness_and_breakage_are_told_apart() {
        let h = HeaderMap::new();
        let too_large = || ServerError::BodyTooLarge("too large".into()).into();
        let status = |r: Result<Bytes, ApiError>| match r {
            Ok(_) => 200,
            Err(e) => e.problem().status().as_u16(),
        };
        assert_eq!(status(read_bounded(&h, Body::from("abc"), 3, too_large).await), 200);
        assert_eq!(read_bounded(&h, Body::empty(), 3, too_large).await.map(|b| b.len()).ok(), Some(0));
        assert_eq!(status(read_bounded(&h, Body::from("abcd"), 3, too_large).await), 413);
        let mut declared = HeaderMap::new();
        declared.insert(header::CONTENT_LENGTH, "4".parse().unwrap());
        assert_eq!(status(read_bounded(&declared, Body::from("ab"), 3, too_large).await), 413);
        let broken = Body::new(Broken);
        assert_eq!(status(read_bounded(&h, broken, 3, too_large).await), 400);
        let stalled = Body::new(DeadlineBody::new(Stalled, Duration::from_millis(1)));
        assert_eq!(status(read_bounded(&h, stalled, 3, too_large).await), 408);
    }

    /// A body whose connection broke.
    struct Broken;
    impl http_body::Body for Broken {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Ready(Some(Err(std::io::Error::other("cut short"))))
        }
    }

    /// A body whose client sends nothing more.
    struct Stalled;
    impl http_body::Body for Stalled {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Pending
        }
    }
}
