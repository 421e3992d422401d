//! Compile-time checks of a bisslog service against its metadata file.
//!
//! **Where it fits:** A service uses these macros through the facade, as
//! `bisslog::service!` and `bisslog::keynames!` (default features). They
//! read the metadata file while the crate compiles, so a misspelt keyname,
//! a use case declared and not registered, or an external interaction
//! without an adapter is a compile error that names the metadata file and
//! line, not a start-up error.
//!
//! # `service!`
//!
//! Registers the use cases and adapters of a service and returns the
//! [`ServiceBuilder`](../bisslog/struct.ServiceBuilder.html) (add
//! `.unit_of_work(..)` or `.readiness_timeout(..)`, then `.build()`):
//!
//! ```ignore
//! pub async fn compose(resources: Resources) -> Result<Service, BuildError> {
//!     bisslog::service!("metadata.yml", resources.metadata(), {
//!         use_cases: { greet: Greet },
//!         adapters: { greetings: store.clone() },
//!         blank: [notifications],
//!     })
//!     .build()
//! }
//! ```
//!
//! - The first argument is the metadata file, relative to the crate's root
//!   (where `Cargo.toml` is), as `bisslog::app!` reads it. It is read and
//!   validated at compile time; invalid metadata fails the build with the
//!   diagnostics `bisslog validate` prints.
//! - The second is the metadata the service runs on (usually
//!   `resources.metadata()`, the same file embedded by `bisslog::app!`).
//! - `use_cases` maps each use case keyname to its implementation,
//!   `adapters` each external interaction keyname to its adapter, and
//!   `blank` lists interactions left without one on purpose. A keyname is
//!   an identifier (`greet`) or a string (`"get-user"`). Sections with
//!   nothing in them may be left out.
//!
//! The call fails to compile, with the error on the offending token, when
//! a use case key is not declared ("no use case `gret` in metadata.yml;
//! did you mean `greet` (metadata.yml:5:3)?"), a declared use case is not
//! registered, an adapter or blank names an interaction no use case
//! declares, or a declared interaction is neither bound nor blank. It
//! expands to `Service::builder(metadata).use_case(..).adapter(..).blank(..)`,
//! so the run-time check of `build()` still runs against the metadata the
//! service is given, and it includes the file so that cargo recompiles
//! the crate when the metadata changes.
//!
//! # `keynames!`
//!
//! Generates a constant per keyname, in the modules `use_cases`,
//! `interactions` and `queues`, each documented with where the metadata
//! declares it:
//!
//! ```ignore
//! pub mod keynames {
//!     bisslog::keynames!("metadata.yml");
//! }
//! // metadata.yml declares `getUser`: keynames::use_cases::GET_USER == "getUser".
//! let handle = service.use_case(keynames::use_cases::GET_USER);
//! ```
//!
//! Names are SCREAMING_SNAKE_CASE (`getUser` and `get-user` both make
//! `GET_USER`; two keynames making one name is a compile error).
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
