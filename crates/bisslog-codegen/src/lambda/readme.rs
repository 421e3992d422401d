//! The README next to the template: what was generated and how to build
//! and deploy it.

use bisslog_schema::Service;

use super::{BisslogDependency, HttpApi, LambdaOptions};

pub(super) fn render(service: &Service, options: &LambdaOptions) -> String {
    let target = options.architecture.rust_target();
    let arch = options.architecture.sam_name();
    let cargo_lambda_arch = match options.architecture {
        super::Architecture::Arm64 => " --arm64",
        super::Architecture::X86_64 => " --x86-64",
    };
    let mut regenerate = format!(
        "bisslog lambda generate <metadata> --out <this directory> \\\n    --crate-name {} --crate-path {} \\\n    --setup {}",
        options.crate_name,
        shell_word(&options.crate_path),
        options.setup
    );
    match &options.bisslog {
        BisslogDependency::Path(path) => {
            regenerate.push_str(&format!(" \\\n    --bisslog-path {}", shell_word(path)));
        }
        BisslogDependency::Version(version) => {
            regenerate.push_str(&format!(
                " \\\n    --bisslog-version {}",
                shell_word(version)
            ));
        }
    }
    if options.http_api == HttpApi::Rest {
        regenerate.push_str(" --http-api rest");
    }
    if options.architecture == super::Architecture::X86_64 {
        regenerate.push_str(" --arch x86_64");
    }
    for queue in &options.sns_queues {
        regenerate.push_str(&format!(" --sns {}", shell_word(queue)));
    }
    for queue in &options.eventbridge_queues {
        regenerate.push_str(&format!(" --eventbridge {}", shell_word(queue)));
    }
    if options.standalone_workspace {
        regenerate.push_str(" --standalone-workspace");
    }
    format!(
        r#"# {name} on AWS Lambda

Generated from the service's metadata by `bisslog lambda generate`:

| file | what it is |
|---|---|
| `template.yaml` | AWS SAM template: one function (`provided.al2023`, {arch}) for every trigger of the service |
| `bootstrap/` | the `bootstrap` binary crate Lambda runs; it calls `{setup}` once per cold start |

Every file starts with a checksum of its contents. Regenerating replaces a
file that is unchanged since it was generated and refuses one that was
edited (name it in `--force` to replace it anyway), so change the metadata or
the options rather than these files:

```sh
{regenerate}
```

## Build and deploy with cargo-lambda and SAM

```sh
cargo install cargo-lambda      # once; it cross-compiles with Zig
sam build --beta-features       # builds bootstrap/ with cargo lambda (BuildMethod rust-cargolambda)
sam deploy --guided             # the first time; then `sam deploy`
```

To build without SAM: `cd bootstrap && cargo lambda build --release{cargo_lambda_arch}`
writes `target/lambda/bootstrap/bootstrap`.

## Build with plain cargo

The `provided.al2023` runtime runs an executable named `bootstrap` at the
root of the function's zip file:

```sh
rustup target add {target}
cd bootstrap
cargo build --release --target {target}
cp target/{target}/release/bootstrap bootstrap
zip -j bootstrap.zip bootstrap
```

Cross-compiling from another platform needs a linker for the target (for
example `gcc-aarch64-linux-gnu` and
`CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc`), or
build on a matching Linux machine. Upload `bootstrap.zip` as the function's
code, or point the function's `CodeUri` at it and `sam deploy`.

## Parameters

`sam deploy --parameter-overrides Name=Value` sets them: `MemorySize` (MB,
default 256), `Timeout` (seconds, default 30), `LogLevel` (the `RUST_LOG`
filter, default `info`){queue_parameter}.
"#,
        name = service.name,
        setup = options.setup,
        queue_parameter = ", and `QueueVisibilityTimeout` (seconds, default 180; at least `Timeout`) when the service consumes SQS queues",
    )
}

/// `word` quoted for a POSIX shell when it needs it.
fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
