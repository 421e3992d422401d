//! One plain-HTTP GET, blocking, over `std::net`: all `bisslog drift
//! --from` needs to read a service's `/interactions/observed`. An HTTP
//! client crate (and an async runtime under it) would be most of the
//! command's build for one request to a port the user names.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long connecting, and each read or write, may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read: an observation document is a list of names.
const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Why the GET gave no body.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    /// Not an `http://` URL.
    #[error("`{url}` is not an http:// URL{hint}")]
    Url {
        /// The URL given.
        url: String,
        /// What to do instead.
        hint: &'static str,
    },
    /// Connecting, sending or reading failed.
    #[error("GET {url}: {source}")]
    Io {
        /// The URL asked.
        url: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The answer is not an HTTP response this reads.
    #[error("GET {url}: the answer is not a readable HTTP response ({reason})")]
    Malformed {
        /// The URL asked.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The answer's status is not 200.
    #[error("GET {url}: {status}{}", snippet(.body))]
    Status {
        /// The URL asked.
        url: String,
        /// Its status line's code.
        status: u16,
        /// The start of its body.
        body: String,
    },
}

fn snippet(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        return String::new();
    }
    let short: String = body.chars().take(200).collect();
    format!(": {short}")
}

/// `GET url`; the body of a 200 answer.
pub(crate) fn get(url: &str) -> Result<Vec<u8>, FetchError> {
    let (authority, path) = split(url)?;
    let io = |source| FetchError::Io {
        url: url.to_owned(),
        source,
    };
    let mut stream = connect(authority).map_err(io)?;
    stream.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
    stream.set_write_timeout(Some(TIMEOUT)).map_err(io)?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nAccept: application/json\r\nUser-Agent: bisslog/{}\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    stream.write_all(request.as_bytes()).map_err(io)?;
    // `Connection: close`: the answer ends where the stream does.
    let mut answer = Vec::new();
    stream
        .take(MAX_BYTES)
        .read_to_end(&mut answer)
        .map_err(io)?;
    let malformed = |reason| FetchError::Malformed {
        url: url.to_owned(),
        reason,
    };
    let (status, chunked, body) = parse(&answer).map_err(malformed)?;
    let body = if chunked {
        dechunk(body).map_err(malformed)?
    } else {
        body.to_vec()
    };
    if status != 200 {
        return Err(FetchError::Status {
            url: url.to_owned(),
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    }
    Ok(body)
}

/// `http://host:port/path` as (`host:port`, `/path`).
fn split(url: &str) -> Result<(&str, &str), FetchError> {
    let Some(rest) = url.strip_prefix("http://") else {
        let hint = if url.starts_with("https://") {
            "; the service's own port speaks plain HTTP (from outside its network, a port-forward: `kubectl port-forward`)"
        } else {
            "; give the service's base URL, such as http://127.0.0.1:8080"
        };
        return Err(FetchError::Url {
            url: url.to_owned(),
            hint,
        });
    };
    let (authority, path) = rest.find('/').map_or((rest, "/"), |at| rest.split_at(at));
    if authority.is_empty() || authority.contains('@') {
        return Err(FetchError::Url {
            url: url.to_owned(),
            hint: "; give the service's base URL, such as http://127.0.0.1:8080",
        });
    }
    Ok((authority, path))
}

/// A connection to `host:port` (port 80 when not given), trying each
/// address the name resolves to.
fn connect(authority: &str) -> std::io::Result<TcpStream> {
    let has_port = match authority.rfind(']') {
        // `[::1]:8080`
        Some(end) => authority[end..].contains(':'),
        None => authority.contains(':'),
    };
    let target = if has_port {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let mut last = None;
    for address in target.to_socket_addrs()? {
        match TcpStream::connect_timeout(&address, TIMEOUT) {
            Ok(stream) => return Ok(stream),
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "the name has no address")
    }))
}

/// The status, whether the body is chunked, and the body of a response.
fn parse(answer: &[u8]) -> Result<(u16, bool, &[u8]), &'static str> {
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = std::str::from_utf8(&answer[..end]).map_err(|_| "headers are not text")?;
    let body = &answer[end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.split(' ');
    if !parts.next().is_some_and(|v| v.starts_with("HTTP/1.")) {
        return Err("not HTTP/1");
    }
    let status = parts
        .next()
        .and_then(|code| code.parse().ok())
        .ok_or("no status code")?;
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|_| "bad content-length")?);
        }
    }
    let body = match length {
        Some(length) if !chunked => body.get(..length).ok_or("body shorter than its length")?,
        _ => body,
    };
    Ok((status, chunked, body))
}

/// A chunked body, joined.
fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut joined = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk without its size line")?;
        let size_line = std::str::from_utf8(&body[..line_end]).map_err(|_| "bad chunk size")?;
        let size_text = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| "bad chunk size")?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(joined);
        }
        let chunk = body.get(..size).ok_or("a chunk shorter than its size")?;
        joined.extend_from_slice(chunk);
        body = body.get(size + 2..).ok_or("a chunk without its end")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_split_into_authority_and_path() {
        assert_eq!(
            split("http://127.0.0.1:8080").unwrap(),
            ("127.0.0.1:8080", "/")
        );
        assert_eq!(
            split("http://[::1]:8080/registry/interactions/observed").unwrap(),
            ("[::1]:8080", "/registry/interactions/observed")
        );
        assert!(matches!(
            split("https://registry"),
            Err(FetchError::Url { .. })
        ));
        assert!(matches!(split("http://"), Err(FetchError::Url { .. })));
        assert!(matches!(
            split("registry:8080"),
            Err(FetchError::Url { .. })
        ));
    }

    #[test]
    fn responses_are_read_with_a_length_or_in_chunks() {
        let plain = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(parse(plain).unwrap(), (200, false, &b"{}"[..]));
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4;x=y\r\n\":1}\r\n0\r\n\r\n";
        let (status, is_chunked, body) = parse(chunked).unwrap();
        assert_eq!((status, is_chunked), (200, true));
        assert_eq!(dechunk(body).unwrap(), b"{\"a\":1}");
        assert_eq!(
            parse(b"HTTP/1.1 404 Not Found\r\n\r\n").unwrap(),
            (404, false, &b""[..])
        );
        assert!(parse(b"SSH-2.0-OpenSSH\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n{}").is_err());
        assert!(dechunk(b"5\r\nab").is_err());
    }
}
