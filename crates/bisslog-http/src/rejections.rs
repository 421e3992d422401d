//! Requests refused below the router, as problem documents.
//!
//! hyper refuses a request it cannot parse before any router sees it:
//! invalid bytes in the request line or a header (400), a URI longer than
//! it accepts (414), headers larger than it buffers (431). It answers
//! with the status alone, an empty body, and closes the connection. hyper
//! has no hook for that answer, so the connection's I/O is wrapped: when
//! hyper writes one of those bodiless heads, the wrapper sends, in its
//! place, the same status as a problem document with a transaction id,
//! like every other error of the server.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bisslog_core::TransactionId;
use http::StatusCode;
use hyper::rt::{Read, ReadBufCursor, Write};

use crate::problem::Problem;

/// A connection's I/O whose parse-error answers are problem documents.
#[derive(Debug)]
pub(crate) struct ProblemRejections<T> {
    inner: T,
    /// The replacement being written, and how much of it is written.
    pending: Option<(Vec<u8>, usize)>,
}

impl<T> ProblemRejections<T> {
    pub(crate) fn new(inner: T) -> Self {
        Self {
            inner,
            pending: None,
        }
    }
}

impl<T: Write + Unpin> ProblemRejections<T> {
    /// Writes what is left of a replacement.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            if *written == bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Takes `buf` in place of hyper's own answer when it is one; the
    /// replacement goes out now or on the next write or flush.
    fn replace(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Option<Poll<io::Result<usize>>> {
        let replacement = replacement(buf)?;
        self.pending = Some((replacement, 0));
        Some(match self.drain(cx) {
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            _ => Poll::Ready(Ok(buf.len())),
        })
    }
}

impl<T: Read + Unpin> Read for ProblemRejections<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: Write + Unpin> Write for ProblemRejections<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        if let Some(done) = this.replace(cx, buf) {
            return done;
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        if let Some(first) = bufs.iter().find(|b| !b.is_empty())
            && let Some(done) = this.replace(cx, first)
        {
            return done;
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// The problem-document answer for hyper's own bodiless answer `head`;
/// `None` for anything else. The router never answers these statuses
/// without a body, so a bodiless one is hyper's.
fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    // Every write of the connection comes through here: rule out bodies
    // and ordinary heads with a prefix comparison before any parsing.
    const PARSE_ERRORS: [&[u8]; 3] = [b"HTTP/1.1 400 ", b"HTTP/1.1 414 ", b"HTTP/1.1 431 "];
    if head.len() > 1024 || !PARSE_ERRORS.iter().any(|p| head.starts_with(p)) {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let rest = text.strip_prefix("HTTP/1.1 ")?;
    let (status, code, detail) = match rest.get(..4)? {
        "400 " => (
            StatusCode::BAD_REQUEST,
            "malformed-request",
            "the request could not be read: its request line or a header is malformed (invalid bytes in the path, ...)",
        ),
        "414 " => (
            StatusCode::URI_TOO_LONG,
            "uri-too-long",
            "the request's URI is longer than the server accepts",
        ),
        "431 " => (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers-too-large",
            "the request's headers are larger than the server accepts",
        ),
        _ => return None,
    };
    let head = text.strip_suffix("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let headers: Vec<&str> = lines.collect();
    let bodiless = headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case("content-length: 0"));
    if !bodiless
        || headers
            .iter()
            .any(|h| h.to_ascii_lowercase().starts_with("content-type:"))
    {
        return None;
    }
    let transaction = TransactionId::generate().to_string();
    let problem = Problem::new(status, code, detail, &transaction, None);
    let body = serde_json::to_vec(&problem).ok()?;
    let mut out = format!("{status_line}\r\n");
    for header in headers
        .iter()
        .filter(|h| !h.to_ascii_lowercase().starts_with("content-length:"))
    {
        out.push_str(header);
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "content-type: application/problem+json\r\ncontent-length: {}\r\n{}: {transaction}\r\nconnection: close\r\n\r\n",
        body.len(),
        crate::TRANSACTION_HEADER,
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&body);
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bodiless_parse_error_answers_are_replaced() {
        let hyper =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let replaced = String::from_utf8(replacement(hyper).unwrap()).unwrap();
        assert!(
            replaced.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\ndate: x\r\n")
        );
        assert!(replaced.contains("content-type: application/problem+json\r\n"));
        assert!(replaced.contains(r#""code":"headers-too-large""#));
        let (_, body) = replaced.split_once("\r\n\r\n").unwrap();
        assert!(replaced.contains(&format!("content-length: {}\r\n", body.len())));
        for other in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"{\"not\": \"a head\"}",
        ] {
            assert!(replacement(other).is_none());
        }
    }
}
