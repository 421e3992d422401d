//! The hexagon's rule, checked: domain code names no framework, transport
//! or database; it depends on `bisslog::core` and its own ports only.

#![allow(clippy::unwrap_used, missing_docs)]

#[test]
fn the_domain_imports_no_infrastructure() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain");
    let forbidden = [
        "axum",
        "sqlx",
        "tokio",
        "bisslog::http",
        "bisslog::sql",
        "bisslog::nats",
        "bisslog::amqp",
        "bisslog::messaging",
        "async_nats",
        "lapin",
        "bisslog::Service",
        "reqwest",
        "crate::adapters",
    ];
    let mut offences = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for name in forbidden {
                if code.contains(name) {
                    offences.push(format!(
                        "{}:{}: {}",
                        path.display(),
                        number + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "the domain reaches infrastructure:\n{}",
        offences.join("\n")
    );
}
