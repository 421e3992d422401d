//! HTTP trigger options.

use super::fields::{boolean, missing, opt_string, string, unsigned, wrong_type};
use super::mapper::{self, MapperRules};
use super::{Checker, Field, Reported, authorization, entry, inner_span, keys};
use crate::code::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{HttpPath, HttpTrigger, Method, RateLimit, RatePeriod};
use crate::node::{Node, Value};
use crate::span::Span;
use crate::suggest;

/// The longest timeout accepted (an HTTP or consumer trigger's): one day,
/// in milliseconds.
pub(super) const MAX_TIMEOUT_MS: u64 = 86_400_000;

pub(super) fn read(
    cx: &mut Checker,
    use_case: &str,
    options: &[(Node, Node)],
    owner: Span,
) -> Result<HttpTrigger, Reported> {
    cx.unknown_keys(options, keys::HTTP, "HTTP trigger options");
    let method = method(cx, options);
    let path = path(cx, options, owner);
    let variables: Option<Vec<String>> = path
        .as_ref()
        .ok()
        .map(|(path, _)| path.variables().map(str::to_owned).collect());
    let mapper = mapper::read(cx, options, &MapperRules::http(variables));
    let authenticator = opt_string(cx, options, "authenticator");
    let authorization = authorization::read(cx, options);
    let apigw = opt_string(cx, options, "apigw");
    let cacheable = boolean(cx, options, "cacheable");
    let allow_cors = boolean(cx, options, "allow_cors");
    let allowed_origins = allowed_origins(cx, options);
    let content_type = content_type(cx, options);
    let timeout_ms = unsigned(cx, options, "timeout", 1, MAX_TIMEOUT_MS);
    let rate_limit = rate_limit(cx, options);
    let retry_policy = opt_string(cx, options, "retry_policy");

    let method = method?;
    if let Ok((path, span)) = &path {
        cx.claim_http_route(method, path, *span, use_case);
    }
    cx.check(Severity::Warning);
    if let (Ok(Some(true)), Some((key, _))) = (cacheable, entry(options, "cacheable"))
        && !matches!(method, Method::Get | Method::Head)
    {
        cx.report(
            Diagnostic::new(
                Code::CacheableNonGet,
                key.span,
                format!("`cacheable` has no effect on {method} routes"),
            )
            .with_hint(
                "only GET and HEAD responses get cache headers; remove `cacheable` or use GET",
            ),
        );
    }
    cx.check(Severity::Warning);
    let cors = matches!(allow_cors, Ok(Some(true)));
    if let (false, Ok(origins), Some((key, _))) =
        (cors, &allowed_origins, entry(options, "allowed_origins"))
        && !origins.is_empty()
    {
        cx.report(
            Diagnostic::new(
                Code::OriginsWithoutCors,
                key.span,
                "`allowed_origins` has no effect without `allow_cors: true`",
            )
            .with_hint("add `allow_cors: true`, or remove `allowed_origins`"),
        );
    }
    Ok(HttpTrigger {
        method,
        path: path?.0,
        mapper: mapper?,
        authenticator: authenticator?,
        authorization: authorization?,
        apigw: apigw?,
        cacheable: cacheable?.unwrap_or(false),
        allow_cors: allow_cors?.unwrap_or(false),
        allowed_origins: allowed_origins?,
        content_type: content_type?,
        timeout_ms: timeout_ms?,
        rate_limit: rate_limit?,
        retry_policy: retry_policy?,
    })
}

/// The method: an HTTP verb in any case; `GET` when absent.
fn method(cx: &mut Checker, options: &[(Node, Node)]) -> Result<Method, Reported> {
    let Some((_, node)) = entry(options, "method") else {
        return Ok(Method::default());
    };
    cx.check(Severity::Error);
    let name = match &node.value {
        Value::Null => return Ok(Method::default()),
        Value::Str(name) => name,
        _ => return Err(cx.report(wrong_type(node, "method", "an HTTP method such as \"GET\""))),
    };
    Method::parse(name.trim()).ok_or_else(|| {
        let hint = method_hint(name);
        cx.report(
            Diagnostic::new(
                Code::InvalidHttpMethod,
                node.span,
                format!("{} is not an HTTP method", node.display_scalar()),
            )
            .with_hint(hint),
        )
    })
}

/// Advice for the verbs people write instead of HTTP methods.
fn method_hint(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    let advice = match lower.as_str() {
        "update" | "modify" | "edit" | "change" => {
            Some("use PUT to replace the resource or PATCH to change part of it")
        }
        "create" | "insert" | "add" | "new" | "register" => Some("use POST to create a resource"),
        "remove" | "del" | "erase" | "destroy" => Some("use DELETE"),
        "read" | "fetch" | "list" | "find" | "query" | "retrieve" => Some("use GET to read"),
        _ => None,
    };
    if let Some(advice) = advice {
        return advice.to_owned();
    }
    let names: Vec<&str> = Method::ALL.iter().map(|m| m.as_str()).collect();
    match suggest::closest(name, names.iter().copied()) {
        Some(close) => format!("did you mean {close}?"),
        None => format!("HTTP methods are {}", names.join(", ")),
    }
}

/// The path (or its deprecated spelling `route`), checked and with the
/// span of its value for route-collision reports.
fn path(
    cx: &mut Checker,
    options: &[(Node, Node)],
    owner: Span,
) -> Result<(HttpPath, Span), Reported> {
    let path = entry(options, "path");
    let route = entry(options, "route");
    cx.check(Severity::Warning);
    let (key, node) = match (path, route) {
        (Some(path), Some((route_key, _))) => {
            cx.report(
                Diagnostic::new(
                    Code::DeprecatedKey,
                    route_key.span,
                    "both `path` and `route` are given; `route` is ignored",
                )
                .with_hint("remove `route`"),
            );
            path
        }
        (Some(path), None) => path,
        (None, Some(route)) => {
            cx.report(
                Diagnostic::new(
                    Code::DeprecatedKey,
                    route.0.span,
                    "`route` is read as `path`",
                )
                .with_hint(
                    "rename `route` to `path`; the Python bisslog validator requires `path`",
                ),
            );
            route
        }
        (None, None) => {
            cx.check(Severity::Error);
            return Err(cx.report(missing("path", "HTTP trigger options", owner)));
        }
    };
    let label = key.as_str().unwrap_or("path");
    let Some(text) = string(cx, node, label)? else {
        return Err(cx.report(missing("path", "HTTP trigger options", owner)));
    };
    cx.check(Severity::Error);
    match HttpPath::parse(text) {
        Ok(path) => Ok((path, node.span)),
        Err((offset, message)) => {
            let span = inner_span(node, text, offset, offset + 1);
            Err(cx.report(
                Diagnostic::new(
                    Code::InvalidHttpPath,
                    span,
                    format!("invalid path {}: {message}", node.display_scalar()),
                )
                .with_hint("paths look like `/users/{user_id}/orders`"),
            ))
        }
    }
}

/// `allowed_origins`: a list of origins, or one comma-separated string.
fn allowed_origins(cx: &mut Checker, options: &[(Node, Node)]) -> Result<Vec<String>, Reported> {
    let Some((_, node)) = entry(options, "allowed_origins") else {
        return Ok(Vec::new());
    };
    cx.check(Severity::Error);
    let items: Vec<(&Node, &str, usize)> = match &node.value {
        Value::Null => return Ok(Vec::new()),
        Value::Str(csv) => csv
            .split(',')
            .scan(0usize, |offset, part| {
                let at = *offset;
                *offset += part.len() + 1;
                let trimmed = part.trim_start();
                Some((node, part.trim(), at + part.len() - trimmed.len()))
            })
            .collect(),
        Value::Seq(items) => {
            let mut origins = Vec::with_capacity(items.len());
            for item in items {
                match item.as_str() {
                    Some(s) => origins.push((item, s.trim(), 0)),
                    None => {
                        return Err(cx.report(wrong_type(
                            item,
                            "allowed_origins",
                            "a list of origins",
                        )));
                    }
                }
            }
            origins
        }
        _ => {
            return Err(cx.report(wrong_type(
                node,
                "allowed_origins",
                "a list of origins or a comma-separated string",
            )));
        }
    };
    let mut origins = Vec::with_capacity(items.len());
    let mut failed = false;
    for (item, origin, offset) in items {
        cx.check(Severity::Error);
        if let Err(problem) = check_origin(origin) {
            let text = item.as_str().unwrap_or_default();
            let span = inner_span(item, text, offset, offset + origin.len());
            let message = format!("`{origin}` is not a CORS origin: {problem}");
            let hint = "an origin is `*` or a scheme and host such as `https://app.example.com` or `http://localhost:3000`";
            cx.report(Diagnostic::new(Code::InvalidOrigin, span, message).with_hint(hint));
            failed = true;
        }
        origins.push(origin.to_owned());
    }
    if failed { Err(Reported) } else { Ok(origins) }
}

/// `*`, or `scheme://host[:port]` with no path.
fn check_origin(origin: &str) -> Result<(), &'static str> {
    if origin == "*" {
        return Ok(());
    }
    let (scheme, rest) = origin
        .split_once("://")
        .ok_or("it has no scheme (`https://`)")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return Err("its scheme is not valid");
    }
    if rest.is_empty() {
        return Err("it has no host");
    }
    if rest.contains('/') {
        return Err("an origin has no path; remove everything from the first `/` after the host");
    }
    let host = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => {
            if port.parse::<u16>().is_err() {
                return Err("its port is not a number from 0 to 65535");
            }
            host
        }
        _ => rest,
    };
    let valid = |c: char| c.is_alphanumeric() || "-._*[]:".contains(c);
    if host.is_empty() || !host.chars().all(valid) {
        return Err("its host is not valid");
    }
    Ok(())
}

/// `content_type`: a media type `type/subtype`, with optional parameters.
fn content_type(cx: &mut Checker, options: &[(Node, Node)]) -> Field<String> {
    let Some((_, node)) = entry(options, "content_type") else {
        return Ok(None);
    };
    let Some(text) = string(cx, node, "content_type")? else {
        return Ok(None);
    };
    cx.check(Severity::Error);
    let essence = text.split(';').next().unwrap_or_default().trim();
    let token = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
    };
    match essence.split_once('/') {
        Some((kind, subtype)) if token(kind) && token(subtype) => Ok(Some(text.to_owned())),
        _ => Err(cx.report(
            Diagnostic::new(
                Code::InvalidContentType,
                node.span,
                format!("{} is not a media type", node.display_scalar()),
            )
            .with_hint("media types look like `application/json` or `text/plain; charset=utf-8`"),
        )),
    }
}

/// `rate_limit`: `"<n>r/s"`, `"<n>r/m"`, or a number of requests per second.
fn rate_limit(cx: &mut Checker, options: &[(Node, Node)]) -> Field<RateLimit> {
    let Some((_, node)) = entry(options, "rate_limit") else {
        return Ok(None);
    };
    cx.check(Severity::Error);
    let parsed = match &node.value {
        Value::Null => return Ok(None),
        Value::Int(n) => u32::try_from(*n).ok().map(|requests| RateLimit {
            requests,
            per: RatePeriod::Second,
        }),
        Value::Str(text) => parse_rate(text.trim()),
        _ => None,
    };
    match parsed {
        Some(limit) if limit.requests > 0 => Ok(Some(limit)),
        _ => Err(cx.report(
            Diagnostic::new(
                Code::InvalidRateLimit,
                node.span,
                format!("{} is not a rate limit", node.display_scalar()),
            )
            .with_hint(
                "write a positive count per second or minute, such as \"100r/s\" or \"200r/m\"",
            ),
        )),
    }
}

fn parse_rate(text: &str) -> Option<RateLimit> {
    let (count, unit) = text.split_once("r/")?;
    let per = match unit {
        "s" => RatePeriod::Second,
        "m" => RatePeriod::Minute,
        _ => return None,
    };
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(RateLimit {
        requests: count.parse().ok()?,
        per,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert!(check_origin("*").is_ok());
        assert!(check_origin("https://app.example.com").is_ok());
        assert!(check_origin("http://localhost:3000").is_ok());
        assert!(check_origin("http://[::1]:8080").is_ok());
        assert!(check_origin("example.com").is_err());
        assert!(check_origin("https://example.com/").is_err());
        assert!(check_origin("https://example.com:99999").is_err());
        assert!(check_origin("https://").is_err());
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("100r/s").map(|r| r.requests), Some(100));
        assert_eq!(parse_rate("5r/m").map(|r| r.per), Some(RatePeriod::Minute));
        assert!(parse_rate("r/s").is_none());
        assert!(parse_rate("10r/h").is_none());
        assert!(parse_rate("99999999999r/s").is_none());
    }
}
