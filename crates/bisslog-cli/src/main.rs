//! The `bisslog` command. Everything it does lives in the `bisslog_cli`
//! library; this is only the process boundary.

use std::process::ExitCode;

fn main() -> ExitCode {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    bisslog_cli::run(std::env::args_os(), &mut stdout.lock(), &mut stderr.lock())
}
