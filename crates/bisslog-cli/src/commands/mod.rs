//! One module per subcommand.

pub(crate) mod analyze;
pub(crate) mod api_doc;
pub(crate) mod deploy;
pub(crate) mod diff;
pub(crate) mod docs;
pub(crate) mod lambda;
mod load;
pub(crate) mod monitoring;
pub(crate) mod scaffold;
pub(crate) mod schema;
mod service_crate;
pub(crate) mod validate;

/// "1 error", "2 errors".
pub(crate) fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
