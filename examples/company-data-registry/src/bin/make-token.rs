//! Run with: `cargo run -p company-data-registry --bin make-token -- keys keys/`
//! then `cargo run -p company-data-registry --bin make-token -- sign keys/ --issuer ISS --audience AUD`
//!
//! Tokens for trying the registry with authentication on, with no identity
//! provider and no openssl: `keys DIR` makes an Ed25519 signing key
//! (`DIR/signing-key.der`) and the JWKS that publishes its public half
//! (`DIR/jwks.json`, for `JWT_JWKS_FILE`); `sign DIR` prints a token
//! signed with it. For local use only: a real deployment's tokens come from
//! its identity provider.
//!
//! `sign` takes `--issuer` and `--audience` (what `JWT_ISSUER` and
//! `JWT_AUDIENCE` say), and optionally `--sub NAME` (default `developer`),
//! `--roles a,b` (the `roles` claim; default none) and `--ttl SECONDS`
//! (default 3600).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

/// The `kid` of the key `keys` makes.
const KEY_ID: &str = "local-1";

/// The PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410): the 32-byte
/// seed follows it.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

type Failure = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("keys") if args.len() == 2 => keys(Path::new(&args[1])),
        Some("sign") if args.len() >= 2 => sign(Path::new(&args[1]), &args[2..]),
        _ => {
            eprintln!(
                "usage: make-token keys DIR\n       make-token sign DIR --issuer ISS --audience AUD [--sub NAME] [--roles a,b] [--ttl SECONDS]"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Writes `dir/signing-key.der` and `dir/jwks.json`.
fn keys(dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)?;
    // The operating system's randomness, without a dependency for it
    // (this helper is for Unix development machines).
    let mut seed = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut seed)?;
    let mut der = ED25519_PKCS8_PREFIX.to_vec();
    der.extend_from_slice(&seed);
    let mut jwk = Jwk::from_encoding_key(&EncodingKey::from_ed_der(&der), Algorithm::EdDSA)?;
    jwk.common.key_id = Some(KEY_ID.to_owned());
    let jwks = JwkSet { keys: vec![jwk] };
    let private = dir.join("signing-key.der");
    std::fs::write(&private, &der)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600))?;
    }
    let public = dir.join("jwks.json");
    std::fs::write(&public, serde_json::to_string_pretty(&jwks)? + "\n")?;
    eprintln!(
        "wrote {} (keep it private) and {} (JWT_JWKS_FILE)",
        private.display(),
        public.display()
    );
    Ok(())
}

/// Prints a token signed with `dir/signing-key.der`.
fn sign(dir: &Path, options: &[String]) -> Result<(), Failure> {
    let mut issuer = None;
    let mut audience = None;
    let mut sub = "developer".to_owned();
    let mut roles: Vec<String> = Vec::new();
    let mut ttl: u64 = 3600;
    let mut pairs = options.iter();
    while let Some(name) = pairs.next() {
        let value = pairs
            .next()
            .ok_or_else(|| format!("{name} needs a value"))?;
        match name.as_str() {
            "--issuer" => issuer = Some(value.clone()),
            "--audience" => audience = Some(value.clone()),
            "--sub" => sub = value.clone(),
            "--roles" => {
                roles = value
                    .split(',')
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            "--ttl" => ttl = value.parse().map_err(|_| "--ttl takes whole seconds")?,
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    let issuer = issuer.ok_or("--issuer is required (what JWT_ISSUER says)")?;
    let audience = audience.ok_or("--audience is required (one of JWT_AUDIENCE)")?;
    let der = std::fs::read(PathBuf::from(dir).join("signing-key.der"))?;
    let now = jsonwebtoken::get_current_timestamp();
    let claims = serde_json::json!({
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "roles": roles,
        "iat": now,
        "exp": now + ttl,
    });
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(KEY_ID.to_owned());
    let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(&der))?;
    println!("{token}");
    Ok(())
}
