//! [`Body`]: a request body type the layer can rebuild from bytes, for hyper services.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed request body that can also be made from [`Bytes`].
///
/// The layer needs to hand on a body it has read as the same bytes, so the service's body
/// type must implement `From<Bytes>`. axum's `Body` does; for hyper's `Incoming`, map the
/// request into this type first:
///
/// ```
/// use oasgate::body::Body;
///
/// fn adapt<B>(request: http::Request<B>) -> http::Request<Body>
/// where
///     B: http_body::Body<Data = bytes::Bytes> + Send + Sync + 'static,
///     B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
/// {
///     request.map(Body::new)
/// }
/// # let _ = adapt(http::Request::new(Body::empty()));
/// ```
pub struct Body(BoxBody<Bytes, BoxError>);

impl Body {
    /// Wraps any body with `Bytes` data. A body that has ended already (a GET's, most
    /// often) becomes [`Body::empty`], and allocates nothing.
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
        B::Error: Into<BoxError>,
    {
        if body.is_end_stream() {
            return Self::empty();
        }
        Self(body.map_err(Into::into).boxed())
    }

    /// An empty body (allocates nothing).
    pub fn empty() -> Self {
        Self(http_body_util::Empty::new().map_err(Into::into).boxed())
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Self::new(http_body_util::Full::new(bytes))
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Self::from(Bytes::from(text))
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Self::from(Bytes::from_static(text.as_bytes()))
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Body")
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.0).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.0.size_hint()
    }
}

#[cfg(feature = "axum")]
impl From<Body> for axum_core::body::Body {
    fn from(body: Body) -> Self {
        axum_core::body::Body::new(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;

    #[tokio::test]
    async fn an_ended_body_becomes_the_empty_one_and_others_keep_their_bytes() {
        let ended = Body::new(http_body_util::Full::new(Bytes::new()));
        assert!(ended.is_end_stream());
        assert_eq!(ended.size_hint().exact(), Some(0));
        assert!(ended.collect().await.unwrap().to_bytes().is_empty());

        let sent = Body::new(http_body_util::Full::new(Bytes::from_static(b"abc")));
        assert_eq!(sent.size_hint().exact(), Some(3));
        assert_eq!(sent.collect().await.unwrap().to_bytes(), "abc");
    }
}
