//! Compile-time checks of a bisslog service against its metadata file.
//!
//! **Where it fits:** A service uses these macros through the facade, as
//! `bisslog::service!` and `bisslog::keynames!` (default features). They
//! read the metadata file while the crate compiles, so a misspelt keyname,
//! a use case declared and not registered, or an external interaction
//! without an adapter is a compile error that names the metadata file and
//! line, not a start-up error.
//!
//! # Example
//!
//! With this metadata (`tests/ui/metadata/service.yml` of this crate):
//!
//! ```yaml
//! name: registry
//! use_cases:
//!   greet:
//!     description: Greets someone.
//!   create_schema:
//!     triggers:
//!       - type: consumer
//!         options: {queue: schemas.requested}
//!     external_interactions:
//!       - keyname: schema_division
//!       - keyname: events
//! ```
//!
//! ```
//! use bisslog::{Adapter, Ctx, Error, NoInput, UseCase};
//!
//! struct Greet;
//! impl UseCase for Greet {
//!     type Input = NoInput;
//!     type Output = String;
//!     type Error = Error;
//!     async fn run(&self, _: &Ctx, _: NoInput) -> Result<String, Error> {
//!         Ok("hello".to_owned())
//!     }
//! }
//!
//! #[derive(Clone)]
//! struct Store;
//! impl Adapter for Store {}
//!
//! // One constant per keyname; a misspelt one does not compile.
//! mod keynames {
//!     bisslog::keynames!("tests/ui/metadata/service.yml");
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let path = std::path::Path::new("tests/ui/metadata/service.yml");
//! let metadata = bisslog::schema::load(Some(path))?;
//! let service = bisslog::service!("tests/ui/metadata/service.yml", metadata, {
//!     use_cases: { greet: Greet, create_schema: Greet },
//!     adapters: { schema_division: Store },
//!     blank: [events],
//! })
//! .build()?;
//! assert!(service.use_case(keynames::use_cases::GREET).is_some());
//! assert_eq!(keynames::interactions::SCHEMA_DIVISION, "schema_division");
//! assert_eq!(keynames::queues::SCHEMAS_REQUESTED, "schemas.requested");
//! # Ok(())
//! # }
//! ```
//!
//! Writing `gret: Greet` instead fails the build:
//!
//! ```text
//! error: no use case `gret` in tests/ui/metadata/service.yml; did you mean `greet` (tests/ui/metadata/service.yml:3:3)?
//!   |
//!   |     use_cases: { gret: Greet, create_schema: Greet },
//!   |                  ^^^^
//! ```
//!
//! # `service!`
//!
//! `service!(file, metadata, { use_cases: {..}, adapters: {..}, blank: [..] })`
//! registers the use cases and adapters of a service and returns the
//! `bisslog::ServiceBuilder` (add `.unit_of_work(..)` or
//! `.readiness_timeout(..)`, then `.build()`).
//!
//! - `file` is the metadata file, relative to the crate's root (where
//!   `Cargo.toml` is), as `bisslog::app!` reads it. It is read and
//!   validated at compile time; invalid metadata fails the build with the
//!   diagnostics `bisslog validate` prints.
//! - `metadata` is the `bisslog::schema::ServiceMetadata`
//!   the service runs on (usually `resources.metadata()`, the same file
//!   embedded by `bisslog::app!`).
//! - `use_cases` maps each use case keyname to its implementation,
//!   `adapters` each external interaction keyname to its adapter, and
//!   `blank` lists interactions left without one on purpose. A keyname is
//!   an identifier (`greet`) or a string (`"get-user"`). A section with
//!   nothing in it may be left out.
//!
//! The call fails to compile, with the error on the offending token, when
//! a use case key is not declared, a declared use case is not registered,
//! an adapter or blank names an interaction no use case declares, a
//! declared interaction is neither bound nor blank, or a key is written
//! twice. It expands to
//! `Service::builder(metadata).use_case(..).adapter(..).blank(..)`, so the
//! run-time check of `build()` still runs against the metadata the service
//! is given, and it includes the file so that cargo recompiles the crate
//! when the metadata changes.
//!
//! # `keynames!`
//!
//! `keynames!(file)` generates the modules `use_cases`, `interactions`
//! and `queues` (the queues consumers consume), with one constant per
//! keyname, documented with where the metadata declares it. Names are
//! SCREAMING_SNAKE_CASE (`getUser` and `get-user` both make `GET_USER`;
//! two keynames making one name is a compile error). Call it inside a
//! module of its own (`mod keynames { .. }`).
//!
//! Metadata loaded from a file at run time is still checked when the
//! service is built; these macros only move the same checks earlier for
//! the file the crate is compiled with.

mod check;
mod keynames;
mod metadata;
mod service;
mod service_input;
mod suggest;

use proc_macro::TokenStream;

/// Registers a service's use cases and adapters, checked against its
/// metadata file at compile time; see the [crate documentation](crate).
#[proc_macro]
pub fn service(input: TokenStream) -> TokenStream {
    service::expand(input.into()).into()
}

/// One documented constant per keyname of a metadata file, in the modules
/// `use_cases`, `interactions` and `queues`; see the
/// [crate documentation](crate).
#[proc_macro]
pub fn keynames(input: TokenStream) -> TokenStream {
    keynames::expand(input.into()).into()
}

/// `const _: &[u8] = include_bytes!("/abs/metadata.yml");`: makes cargo
/// recompile the crate when the metadata file changes.
fn tracked_file(
    path: &std::path::Path,
    at: proc_macro2::Span,
) -> syn::Result<proc_macro2::TokenStream> {
    let Some(path) = path.to_str() else {
        return Err(syn::Error::new(
            at,
            format!(
                "the metadata file's path is not UTF-8 ({}); move the crate to a path that is",
                path.display()
            ),
        ));
    };
    let path = syn::LitStr::new(path, at);
    Ok(quote::quote! {
        const _: &[u8] = ::core::include_bytes!(#path);
    })
}
