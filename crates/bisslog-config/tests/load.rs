//! The loader against real files in temporary directories; the
//! environment is a map given to the loader.

use std::path::{Path, PathBuf};

use bisslog_config::{ConfigError, Loader, LogFormat, NoServiceSettings, Origin, Secret};

#[derive(Debug, serde::Deserialize)]
struct Service {
    #[serde(default)]
    retries: u32,
    #[serde(default)]
    upstream: Option<String>,
    api_key: Option<Secret<String>>,
}

const DB_SECRET: &str = "s3cr3t-db-pw";
const API_SECRET: &str = "k3y-0f-the-api";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a test file");
    path
}

fn path_str(path: &Path) -> String {
    path.to_str().expect("a UTF-8 temporary path").to_owned()
}

#[test]
fn precedence_is_default_file_env_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        dir.path(),
        "c.toml",
        "port = 9000\nhost = \"0.0.0.0\"\nbroker_namespace = \"file.\"\n\n[service]\nretries = 1\nupstream = \"http://file\"\n",
    );
    let config = Loader::new()
        .file(&file)
        .env([
            ("PORT", "9100"),
            ("BROKER_NAMESPACE", "env."),
            ("RETRIES", "2"),
        ])
        .flag("--port", "9200")
        .flag("retries", "3")
        .load::<Service>()
        .expect("loads");
    let s = &config.settings;
    assert_eq!(s.port, 9200, "flag over env over file");
    assert_eq!(s.broker_namespace.as_deref(), Some("env."), "env over file");
    assert_eq!(s.host.to_string(), "0.0.0.0", "file over default");
    assert_eq!(s.rust_log, "info", "default");
    assert_eq!(s.log_format, LogFormat::Text);
    assert_eq!(config.service.retries, 3);
    assert_eq!(config.service.upstream.as_deref(), Some("http://file"));

    let r = &config.report;
    let origin = |key: &str| r.get(key).expect("reported").origin.clone();
    assert_eq!(origin("port"), Origin::Flag("port".into()));
    assert_eq!(
        origin("broker_namespace"),
        Origin::Env("BROKER_NAMESPACE".into())
    );
    assert_eq!(
        origin("host"),
        Origin::File {
            path: file.clone(),
            line: 2,
            column: 1
        }
    );
    assert_eq!(origin("rust_log"), Origin::Default);
    assert_eq!(origin("service.retries"), Origin::Flag("retries".into()));
    assert_eq!(
        origin("service.upstream"),
        Origin::File {
            path: file,
            line: 7,
            column: 1
        }
    );
    assert_eq!(r.get("service.api_key").expect("reported").value, None);
    let shown = r.to_string();
    assert!(shown.contains("port"), "{shown}");
    assert!(shown.contains("# flag --port"), "{shown}");
}

#[test]
fn file_secrets_are_read_and_masked_everywhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = write(
        dir.path(),
        "db",
        &format!("postgres://app:{DB_SECRET}@db:5432/registry\n"),
    );
    let key = write(dir.path(), "key", &format!("{API_SECRET}\n"));
    let config = Loader::new()
        .env([
            ("DATABASE_URL_FILE", path_str(&db)),
            ("API_KEY_FILE", path_str(&key)),
            (
                "BROKER_URL",
                format!("amqp://user:{DB_SECRET}@rabbit:5672/%2f"),
            ),
        ])
        .load::<Service>()
        .expect("loads");
    assert_eq!(
        config.settings.database_url.expose(),
        format!("postgres://app:{DB_SECRET}@db:5432/registry"),
        "one trailing newline trimmed"
    );
    let api_key = config.service.api_key.as_ref().expect("set");
    assert_eq!(api_key.expose(), API_SECRET);

    let debug = format!("{config:?}");
    let report = config.report.to_string();
    for shown in [&debug, &report] {
        assert!(!shown.contains(DB_SECRET), "{shown}");
        assert!(!shown.contains(API_SECRET), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }
    assert!(
        report.contains("amqp://user:***@rabbit:5672/%2f"),
        "{report}"
    );
    let entry = config.report.get("database_url").expect("reported");
    assert!(entry.secret);
    assert_eq!(entry.value.as_deref(), Some("***"));
    assert_eq!(
        entry.origin,
        Origin::EnvFile {
            var: "DATABASE_URL_FILE".into(),
            path: db
        }
    );
    let entry = config.report.get("service.api_key").expect("reported");
    assert!(entry.secret);
    assert_eq!(entry.value.as_deref(), Some("***"));
}

#[test]
fn a_secret_field_is_masked_even_from_a_plain_variable() {
    let config = Loader::new()
        .env([("API_KEY", API_SECRET)])
        .load::<Service>()
        .expect("loads");
    let entry = config.report.get("service.api_key").expect("reported");
    assert_eq!(entry.value.as_deref(), Some("***"));
    assert!(!config.report.to_string().contains(API_SECRET));
    assert!(!format!("{:?}", config.service).contains(API_SECRET));
}

#[test]
fn bad_secret_values_do_not_show_in_errors() {
    #[derive(Debug, serde::Deserialize)]
    struct Pin {
        #[allow(dead_code)]
        pin: Secret<u16>,
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let pin = write(dir.path(), "pin", &format!("{API_SECRET}\n"));
    let err = Loader::new()
        .env([("PIN_FILE", path_str(&pin))])
        .load::<Pin>()
        .expect_err("not a number");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(API_SECRET), "{shown}");
    assert!(
        matches!(&err, ConfigError::InvalidValue { key, .. } if key == "service.pin"),
        "{shown}"
    );
    assert!(shown.contains("PIN_FILE"), "{shown}");

    let port = write(dir.path(), "port", &format!("{DB_SECRET}\n"));
    let err = Loader::new()
        .env([("PORT_FILE", path_str(&port))])
        .load::<NoServiceSettings>()
        .expect_err("not a port");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(DB_SECRET), "{shown}");
    assert!(shown.contains("PORT_FILE"), "{shown}");
}

#[test]
fn an_unknown_key_in_the_file_is_reported_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        dir.path(),
        "c.toml",
        "port = 9000\n# a comment\n  prot = 1\n",
    );
    let err = Loader::new()
        .file(&file)
        .load::<Service>()
        .expect_err("unknown key");
    match &err {
        ConfigError::UnknownKey {
            key, line, column, ..
        } => {
            assert_eq!((key.as_str(), *line, *column), ("prot", 3, 3));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains(":3:3: unknown key `prot`"),
        "{err}"
    );

    let file = write(dir.path(), "s.toml", "[service]\nretries = 2\nretry = 3\n");
    let err = Loader::new()
        .file(&file)
        .load::<Service>()
        .expect_err("unknown service key");
    assert!(
        matches!(&err, ConfigError::UnknownKey { key, line: 3, .. } if key == "service.retry"),
        "{err:?}"
    );
}

#[test]
fn bad_values_name_the_key_and_where_it_came_from() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "c.toml", "\nport = \"eighty\"\n");
    let err = Loader::new()
        .file(&file)
        .load::<NoServiceSettings>()
        .expect_err("bad port");
    match &err {
        ConfigError::InvalidValue {
            key,
            origin: Origin::File { line: 2, .. },
            ..
        } if key == "port" => {}
        other => panic!("{other:?}"),
    }

    let err = Loader::new()
        .env([("PORT", "70000")])
        .load::<NoServiceSettings>()
        .expect_err("out of range");
    assert!(
        matches!(&err, ConfigError::InvalidValue { key, origin: Origin::Env(var), .. } if key == "port" && var == "PORT"),
        "{err:?}"
    );
    assert!(err.to_string().contains("env PORT"), "{err}");

    let err = Loader::new()
        .env([("RETRIES", "many")])
        .load::<Service>()
        .expect_err("bad service value");
    assert!(
        matches!(&err, ConfigError::InvalidValue { key, origin: Origin::Env(var), .. } if key == "service.retries" && var == "RETRIES"),
        "{err:?}"
    );

    let err = Loader::new()
        .flag("log-format", "xml")
        .load::<NoServiceSettings>()
        .expect_err("bad format");
    assert!(err.to_string().contains("`text`, `json`"), "{err}");

    let err = Loader::new()
        .flag("colour", "red")
        .load::<NoServiceSettings>()
        .expect_err("unknown flag");
    assert!(matches!(&err, ConfigError::UnknownFlag { name } if name == "colour"));

    let file = write(dir.path(), "broken.toml", "port = = 1\n");
    let err = Loader::new()
        .file(&file)
        .load::<NoServiceSettings>()
        .expect_err("syntax");
    assert!(
        matches!(&err, ConfigError::Syntax { line: 1, .. }),
        "{err:?}"
    );
}

#[test]
fn both_a_variable_and_its_file_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = write(dir.path(), "db", "postgres://x\n");
    let err = Loader::new()
        .env([
            ("DATABASE_URL", "memory".to_owned()),
            ("DATABASE_URL_FILE", path_str(&db)),
        ])
        .load::<NoServiceSettings>()
        .expect_err("both set");
    assert!(matches!(&err, ConfigError::BothSet { var } if var == "DATABASE_URL"));
    assert!(err.to_string().contains("DATABASE_URL_FILE"), "{err}");
}

#[test]
fn a_missing_required_service_setting_names_its_variable() {
    #[derive(Debug, serde::Deserialize)]
    struct Needs {
        #[allow(dead_code)]
        token: Secret<String>,
    }
    let err = Loader::new().load::<Needs>().expect_err("missing");
    assert!(
        matches!(&err, ConfigError::Missing { key, var } if key == "service.token" && var == "TOKEN"),
        "{err:?}"
    );
}

#[test]
fn service_fields_may_not_take_the_frameworks_names() {
    #[derive(Debug, serde::Deserialize)]
    struct Clash {
        #[allow(dead_code)]
        port: u16,
    }
    let err = Loader::new().load::<Clash>().expect_err("clash");
    assert!(matches!(err, ConfigError::ServiceType { .. }), "{err:?}");
    let ok = Loader::new()
        .service_env_prefix("SVC_")
        .env([("SVC_PORT", "1")])
        .load::<Clash>();
    assert!(ok.is_err(), "the flag --port still clashes");
}

#[test]
fn authentication_settings_are_read_and_the_secret_always_masked() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let secret = write(dir.path(), "hmac", "an HS256 secret of at least 32 bytes\n");
    let config = Loader::new()
        .env([
            ("JWT_HMAC_SECRET_FILE", path_str(&secret)),
            ("JWT_ISSUER", "https://idp.example.com".to_owned()),
            ("JWT_AUDIENCE", "registry, importer".to_owned()),
            ("JWT_LEEWAY", "10s".to_owned()),
            ("API_KEYS_FILE", "/run/keys".to_owned()),
        ])
        .load::<NoServiceSettings>()
        .expect("valid settings");
    let s = &config.settings;
    assert_eq!(
        s.jwt_hmac_secret.as_ref().map(|v| v.expose().as_str()),
        Some("an HS256 secret of at least 32 bytes")
    );
    assert_eq!(s.jwt_audience, ["registry", "importer"]);
    assert_eq!(s.jwt_leeway, Some(std::time::Duration::from_secs(10)));
    assert_eq!(s.api_keys_file, Some(PathBuf::from("/run/keys")));
    assert!(s.jwt_configured() && s.authentication_configured());
    let report = config.report.to_string();
    assert!(!report.contains("at least 32"), "{report}");
    assert_eq!(
        config
            .report
            .get("jwt_audience")
            .and_then(|e| e.value.clone()),
        Some("registry,importer".to_owned())
    );

    // From a plain variable, the secret is masked too.
    let config = Loader::new()
        .env([("JWT_HMAC_SECRET", "a plain secret of at least 32 bytes!")])
        .load::<NoServiceSettings>()
        .expect("valid settings");
    let entry = config.report.get("jwt_hmac_secret").expect("an entry");
    assert_eq!(entry.value.as_deref(), Some("***"));
    assert!(entry.secret);

    // None set: nothing configured.
    let config = Loader::new().load::<NoServiceSettings>().expect("defaults");
    assert!(!config.settings.authentication_configured());
}

#[test]
fn conflicting_authentication_settings_name_the_variable() {
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("JWT_JWKS_FILE", "/a"), ("JWT_JWKS_URL", "http://b")],
            "JWT_JWKS_FILE",
        ),
        (
            &[("JWT_HMAC_SECRET", "s"), ("JWT_JWKS_URL", "http://b")],
            "JWT_JWKS_URL",
        ),
        (&[("JWT_JWKS_URL", "http://b")], "JWT_ISSUER"),
        (&[("JWT_AUDIENCE", "registry")], "JWT_AUDIENCE"),
    ];
    for (env, expected) in cases {
        let error = Loader::new()
            .env(env.iter().copied())
            .load::<NoServiceSettings>()
            .expect_err("a conflict");
        match &error {
            ConfigError::Conflict { var, .. } => assert_eq!(var, expected, "{error}"),
            other => panic!("{other}"),
        }
        assert!(error.to_string().starts_with(expected), "{error}");
    }
}
