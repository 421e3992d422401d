//! The messages: distinct ids and a small JSON body, decoded as a consumer
//! would before calling its use case.

/// The inbox's consumer name for every design.
pub(crate) const CONSUMER: &str = "bench-consumer";

/// One delivery.
pub(crate) struct Message {
    pub(crate) id: String,
    pub(crate) body: String,
}

/// N messages with distinct ids; every sum is non-negative.
pub(crate) fn make(n: usize, prefix: &str) -> Vec<Message> {
    (0..n)
        .map(|i| Message {
            id: format!("{prefix}-{i:08}"),
            body: format!(r#"{{"a":1,"b":2,"c":{}}}"#, i % 1000),
        })
        .collect()
}

/// A message whose use case fails: its sum breaks the table's CHECK, so
/// the use-case insert is refused and the inbox row must go with it.
pub(crate) fn failing() -> Message {
    Message {
        id: "failing-00000000".into(),
        body: r#"{"a":1,"b":2,"c":-10}"#.into(),
    }
}

/// The use case's input: `a + b + c` of the body.
pub(crate) fn decode(body: &str) -> Result<i64, String> {
    let value: serde_json::Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
    let field = |name: &str| {
        value
            .get(name)
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| format!("field {name} missing or not an integer"))
    };
    Ok(field("a")? + field("b")? + field("c")?)
}

/// Now, in milliseconds since the epoch (the inbox's `handled_at_ms`).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
