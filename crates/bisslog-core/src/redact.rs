//! Passwords kept out of messages and logs: the one masker every crate
//! uses (the SQL and RabbitMQ adapters for their URLs, the configuration for
//! its report and errors).

/// What a masked value shows instead of itself.
pub const MASK: &str = "***";

/// `text` with the password of a URL in it (`scheme://user:password@host`)
/// replaced by `***`; other text unchanged.
///
/// ```
/// use bisslog_core::mask_url_password;
/// assert_eq!(mask_url_password("postgres://app:pw@db/x"), "postgres://app:***@db/x");
/// assert_eq!(mask_url_password("nats://host:4222"), "nats://host:4222");
/// ```
pub fn mask_url_password(text: &str) -> String {
    let Some(scheme_end) = text.find("://") else {
        return text.to_owned();
    };
    let authority_start = scheme_end + 3;
    let rest = &text[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    let Some(at) = authority.rfind('@') else {
        return text.to_owned();
    };
    let userinfo = &authority[..at];
    let Some(colon) = userinfo.find(':') else {
        return text.to_owned();
    };
    let password_start = authority_start + colon + 1;
    let password_end = authority_start + at;
    format!("{}{MASK}{}", &text[..password_start], &text[password_end..])
}
