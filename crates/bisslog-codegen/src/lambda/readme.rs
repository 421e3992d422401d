//! The README next to the template: what was generated and how to build
//! and deploy it.

use bisslog_schema::{ServiceMetadata, TriggerKind};

use super::{BisslogDependency, HttpApi, LambdaOptions};

pub(super) fn render(service: &ServiceMetadata, options: &LambdaOptions) -> String {
    let defaults = super::timeouts::Defaults::of(service);
    let target = options.architecture.rust_target();
    let arch = options.architecture.sam_name();
    let (cargo_lambda_arch, linker_package, linker_variable) = match options.architecture {
        super::Architecture::Arm64 => (
            " --arm64",
            "gcc-aarch64-linux-gnu",
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc",
        ),
        super::Architecture::X86_64 => (
            " --x86-64",
            "gcc-x86-64-linux-gnu",
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER=x86_64-linux-gnu-gcc",
        ),
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
edited (pass `--force` to replace it anyway), so change the metadata or the
options rather than these files:

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
writes `target/lambda/bootstrap/bootstrap` (under the workspace's `target/`
when the crate is a workspace member).

## The bootstrap crate

`bootstrap/` depends on the service crate (`{crate_name}`) by path and on
`bisslog` with the `lambda` feature. `{setup}` is an
`async fn() -> Result<bisslog::Service, E>` (`E: std::error::Error + Send +
Sync + 'static`) that builds the service's adapters and configuration; it
runs once per cold start, outside the handler. {workspace}

## Build with plain cargo

The `provided.al2023` runtime runs an executable named `bootstrap` at the
root of the function's zip file:

```sh
rustup target add {target}
cd bootstrap
cargo build --release --target {target}
cp target/{target}/release/bootstrap bootstrap   # the workspace's target/ for a member
zip -j bootstrap.zip bootstrap
aws lambda update-function-code --function-name <FunctionArn output> --zip-file fileb://bootstrap.zip
```

Amazon Linux 2023 has glibc 2.34: build on a system whose glibc is not
newer (or use cargo lambda, which links against an older one). Cross-compiling
needs a linker for the target, for example `{linker_package}` and
`{linker_variable}`.

## Parameters

`sam deploy --parameter-overrides Name=Value` sets them: `MemorySize` (MB,
default 256), `Timeout` (seconds, default {function_s}), `LogLevel` (the `RUST_LOG`
filter, default `info`){queue_parameter}.

Keep `Timeout` above every trigger's `timeout` (its default is a second more
than the longest, and at least 30): a call can only time out and fail alone
while the invocation still runs.
"#,
        name = service.name,
        setup = options.setup,
        crate_name = options.crate_name,
        workspace = if options.standalone_workspace {
            "The crate has an empty\n`[workspace]` table, so it builds on its own wherever it lies."
        } else {
            "Inside a Cargo workspace, add\n`bootstrap/` to the workspace's `members` (or regenerate with\n`--standalone-workspace` to give it its own `[workspace]`)."
        },
        queue_parameter = if consumes_sqs(service, options) {
            format!(
                ", and `QueueVisibilityTimeout` (seconds, default\n{}; keep it at least `Timeout`, AWS advises six times it)",
                defaults.visibility_s
            )
        } else {
            String::new()
        },
        function_s = defaults.function_s,
    )
}

/// Whether a consumer trigger reads a queue that stays on SQS.
fn consumes_sqs(service: &ServiceMetadata, options: &LambdaOptions) -> bool {
    service
        .use_cases
        .values()
        .flat_map(|use_case| &use_case.triggers)
        .any(|trigger| match &trigger.kind {
            TriggerKind::Consumer(consumer) => {
                !options.sns_queues.contains(&consumer.queue)
                    && !options.eventbridge_queues.contains(&consumer.queue)
            }
            _ => false,
        })
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
