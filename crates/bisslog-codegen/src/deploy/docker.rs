//! The Dockerfile: a builder stage that compiles the service for
//! `x86_64-unknown-linux-musl` (a static binary: musl's C library linked
//! in, and the bundled C code, such as SQLite, compiled by `musl-gcc`),
//! and a `distroless/static` stage that holds only that binary, its CA
//! certificates and time zones, and runs it as the non-root user.

use bisslog_schema::ServiceMetadata;

use super::DockerOptions;

/// The target of the static build.
const TARGET: &str = "x86_64-unknown-linux-musl";

/// The runtime image: no shell, no package manager; CA certificates,
/// `/etc/passwd` with the `nonroot` user (65532), time zone data.
const RUNTIME_IMAGE: &str = "gcr.io/distroless/static-debian12:nonroot";

/// What the build context leaves out: the build needs the workspace's
/// manifests, `Cargo.lock` and sources only.
pub(super) const DOCKERIGNORE: &str = "\
# Read by BuildKit for the Dockerfile beside it, whatever the context.
.git
**/target
**/node_modules
**/*.db
**/*.db-shm
**/*.db-wal
.env
";

pub(super) fn dockerfile(service: &ServiceMetadata, options: &DockerOptions) -> String {
    let DockerOptions {
        package,
        binary,
        port,
        rust_image,
    } = options;
    format!(
        "\
# The image of the bisslog service `{service}`: the binary `{binary}` of
# the package `{package}`, built static and run as a non-root user.
#
# Build from the workspace root (the directory holding Cargo.lock), naming
# this file; BuildKit then reads Dockerfile.dockerignore beside it:
#
#   docker build -f path/to/Dockerfile -t IMAGE .
#
# No HEALTHCHECK: the runtime image has no shell or HTTP client to run one.
# Kubernetes probes /health/live and /health/ready instead (see the
# manifests of `bisslog deploy kubernetes`).

FROM {rust_image} AS builder
# musl-tools: the C compiler for the C code crates bundle (SQLite, ring).
# Not pinned: Debian's security updates replace a pinned version.
# hadolint ignore=DL3008
RUN apt-get update \\
    && apt-get install -y --no-install-recommends musl-tools \\
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# After the sources: a rust-toolchain.toml among them picks the toolchain
# the target is added to.
RUN rustup target add {TARGET}
RUN cargo build --release --locked --target {TARGET} \\
        --package {package} --bin {binary} \\
    && cp target/{TARGET}/release/{binary} /{binary}

FROM {RUNTIME_IMAGE}
COPY --from=builder /{binary} /usr/local/bin/{binary}
# The runner listens on 127.0.0.1 by default: a container is reached on
# its own address.
ENV HOST=0.0.0.0 PORT={port} BISSLOG_LOG_FORMAT=json
EXPOSE {port}
USER 65532:65532
ENTRYPOINT [\"/usr/local/bin/{binary}\"]
",
        service = service.name,
    )
}
