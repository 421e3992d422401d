//! The command line every service binary has: the framework's flags, the
//! service's own, and the standard commands.

use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches};

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    Serve,
    Call {
        use_case: String,
        input: Option<String>,
    },
    Config,
    Check,
    OpenApi,
    AsyncApi,
    Metadata,
    OutboxStuck,
    OutboxRedrive(i64),
}

/// The parsed command line: the command, the configuration file, and the
/// flags given, for the configuration loader.
#[derive(Debug, Clone)]
pub(crate) struct Invocation {
    pub(crate) command: Command,
    pub(crate) config_file: Option<PathBuf>,
    pub(crate) flags: Vec<(String, String)>,
}

/// What a framework setting's flag says in `--help`.
fn framework_help(key: &str) -> &'static str {
    match key {
        "host" => "The address to listen on",
        "port" => "The port to listen on; 0 picks a free one",
        "database_url" => "Where data lives: memory, sqlite://file.db or postgres://user@host/db",
        "broker_url" => {
            "The broker: in-process (unset), sqlite://..., postgres://..., nats://host:4222, amqp://user:password@host:5672/%2f, redis://host:6379/0 or kafka://host:9092"
        }
        "broker_namespace" => "A prefix for every queue name on the broker (staging.)",
        "rust_log" => "The log filter (info, debug,sqlx=warn)",
        "bisslog_log_format" => "How log lines are written: text or json",
        "shutdown_delay" => {
            "How long /health/ready answers 503 after SIGTERM before the service stops accepting (5s)"
        }
        "bisslog_queue_injection" => {
            "Serve POST /_bisslog/queues/{queue} to put a message on a queue by hand (true/false; never in production)"
        }
        "bisslog_metrics" => {
            "Serve GET /metrics for Prometheus and GET /interactions/observed for bisslog drift (true/false)"
        }
        "jwt_jwks_file" => {
            "A JWKS file whose keys check JWT bearer tokens, then required on every route"
        }
        "jwt_jwks_url" => {
            "A JWKS URL (http; https with the tls feature), fetched and cached; needs JWT_ISSUER"
        }
        "jwt_hmac_secret" => "An HS256 secret of 32 bytes or more (prefer JWT_HMAC_SECRET_FILE)",
        "jwt_issuer" => "The `iss` JWT bearer tokens must have",
        "jwt_audience" => "The `aud` values accepted, comma-separated",
        "jwt_leeway" => "The clock skew tolerated on `exp` and `nbf` (30s)",
        "api_keys_file" => {
            "A file of client:sha256hex[:roles] lines: the API keys accepted (x-api-key)"
        }
        _ => "",
    }
}

/// The command-line interface of a service named `name`.
pub(crate) fn interface(
    name: &str,
    about: Option<&str>,
    version: &str,
    service_flags: &[(String, String)],
) -> clap::Command {
    let mut command = clap::Command::new(name.to_owned())
        .version(version.to_owned())
        .about(
            about
                .map(str::to_owned)
                .unwrap_or_else(|| format!("The {name} service.")),
        )
        .after_help(
            "Settings come from, in increasing precedence: defaults, the --config file, \
             environment variables (VAR or VAR_FILE for secrets), flags.",
        )
        .arg(
            Arg::new("config")
                .long("config")
                .value_name("FILE")
                .global(true)
                .help("A TOML configuration file"),
        );
    for setting in bisslog_config::FRAMEWORK {
        command = command.arg(
            Arg::new(setting.flag)
                .long(setting.flag)
                .value_name(setting.var)
                .global(true)
                .help(format!(
                    "{} [env: {}]",
                    framework_help(setting.file_key),
                    setting.var
                )),
        );
    }
    for (flag, var) in service_flags {
        command = command.arg(
            Arg::new(flag.clone())
                .long(flag.clone())
                .value_name(var.clone())
                .global(true)
                .help(format!("The service's own setting [env: {var}]")),
        );
    }
    command
        .subcommand(clap::Command::new("serve").about("Serves the service (the default)"))
        .subcommand(
            clap::Command::new("call")
                .about("Runs one use case once: input JSON in, output JSON out (exit 1 on failure)")
                .arg(
                    Arg::new("use_case")
                        .required(true)
                        .help("The use case's keyname"),
                )
                .arg(
                    Arg::new("input")
                        .long("input")
                        .value_name("JSON")
                        .help("The input as JSON; absent or - reads standard input"),
                ),
        )
        .subcommand(clap::Command::new("config").about(
            "Prints the effective configuration: each value and where it came from, secrets masked",
        ))
        .subcommand(
            clap::Command::new("check")
                .about("Checks the metadata against the code: every disagreement, exit 1 when any"),
        )
        .subcommand(clap::Command::new("openapi").about("Prints the OpenAPI document"))
        .subcommand(clap::Command::new("asyncapi").about("Prints the AsyncAPI document"))
        .subcommand(clap::Command::new("metadata").about("Prints the embedded metadata file"))
        .subcommand(
            clap::Command::new("outbox")
                .about("The outbox of a SQL database, for operators")
                .subcommand_required(true)
                .subcommand(
                    clap::Command::new("stuck")
                        .about("Lists the events whose publication keeps failing"),
                )
                .subcommand(
                    clap::Command::new("redrive")
                        .about("Makes a stuck event due again")
                        .arg(
                            Arg::new("id")
                                .required(true)
                                .value_parser(clap::value_parser!(i64))
                                .action(ArgAction::Set)
                                .help("The outbox id, as `outbox stuck` lists it"),
                        ),
                ),
        )
}

/// Reads what `interface` parsed.
pub(crate) fn invocation(matches: &ArgMatches, service_flags: &[(String, String)]) -> Invocation {
    let (command, sub) = match matches.subcommand() {
        None => (Command::Serve, matches),
        Some(("call", m)) => (
            Command::Call {
                use_case: m.get_one::<String>("use_case").cloned().unwrap_or_default(),
                input: m.get_one::<String>("input").cloned(),
            },
            m,
        ),
        Some(("config", m)) => (Command::Config, m),
        Some(("check", m)) => (Command::Check, m),
        Some(("openapi", m)) => (Command::OpenApi, m),
        Some(("asyncapi", m)) => (Command::AsyncApi, m),
        Some(("metadata", m)) => (Command::Metadata, m),
        Some(("outbox", m)) => match m.subcommand() {
            Some(("redrive", r)) => (
                Command::OutboxRedrive(r.get_one::<i64>("id").copied().unwrap_or_default()),
                r,
            ),
            Some((_, s)) => (Command::OutboxStuck, s),
            None => (Command::OutboxStuck, m),
        },
        Some((_, m)) => (Command::Serve, m),
    };
    let mut flags = Vec::new();
    let names = bisslog_config::FRAMEWORK
        .iter()
        .map(|s| s.flag.to_owned())
        .chain(service_flags.iter().map(|(flag, _)| flag.clone()));
    for name in names {
        // Global flags are visible from the subcommand's matches.
        if let Ok(Some(value)) = sub.try_get_one::<String>(&name) {
            flags.push((name, value.clone()));
        }
    }
    let config_file = sub
        .try_get_one::<String>("config")
        .ok()
        .flatten()
        .map(PathBuf::from);
    Invocation {
        command,
        config_file,
        flags,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn parse(args: &[&str]) -> Invocation {
        let flags = vec![("api-key".to_owned(), "API_KEY".to_owned())];
        let matches = interface("svc", None, "1.0.0", &flags)
            .try_get_matches_from(args)
            .unwrap();
        invocation(&matches, &flags)
    }

    #[test]
    fn serve_is_the_default_and_flags_are_collected_wherever_given() {
        let plain = parse(&["svc", "--port", "9000", "--api-key", "k"]);
        assert_eq!(plain.command, Command::Serve);
        assert_eq!(
            plain.flags,
            vec![
                ("port".to_owned(), "9000".to_owned()),
                ("api-key".to_owned(), "k".to_owned())
            ]
        );
        let after = parse(&["svc", "config", "--port", "9001", "--config", "x.toml"]);
        assert_eq!(after.command, Command::Config);
        assert_eq!(after.flags, vec![("port".to_owned(), "9001".to_owned())]);
        assert_eq!(after.config_file, Some(PathBuf::from("x.toml")));
    }

    #[test]
    fn every_command_parses() {
        assert_eq!(
            parse(&["svc", "call", "greet", "--input", "{}"]).command,
            Command::Call {
                use_case: "greet".to_owned(),
                input: Some("{}".to_owned())
            }
        );
        assert_eq!(
            parse(&["svc", "outbox", "stuck"]).command,
            Command::OutboxStuck
        );
        assert_eq!(
            parse(&["svc", "outbox", "redrive", "42"]).command,
            Command::OutboxRedrive(42)
        );
        for (word, command) in [
            ("serve", Command::Serve),
            ("check", Command::Check),
            ("openapi", Command::OpenApi),
            ("asyncapi", Command::AsyncApi),
            ("metadata", Command::Metadata),
        ] {
            assert_eq!(parse(&["svc", word]).command, command);
        }
    }

    #[test]
    fn bad_command_lines_are_refused_with_status_2() {
        let flags = Vec::new();
        for args in [
            &["svc", "--prot", "1"][..],
            &["svc", "outbox", "redrive", "x"],
            &["svc", "call"],
            &["svc", "frobnicate"],
        ] {
            let error = interface("svc", None, "1.0.0", &flags)
                .try_get_matches_from(args)
                .unwrap_err();
            assert_eq!(error.exit_code(), 2, "{args:?}");
        }
    }
}
