//! `service!`: checks the call against the metadata file, then expands to
//! the ordinary builder calls.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::LitStr;

use crate::check::{Key, Registered, check};
use crate::metadata::{self, Metadata};
use crate::service_input::{KeyName, ServiceInput};

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let call: ServiceInput = match syn::parse2(input) {
        Ok(call) => call,
        Err(error) => return as_expression(error),
    };
    let metadata = match metadata::read(&call.file.value()) {
        Ok(metadata) => metadata,
        Err(message) => return with_errors(&call, syn::Error::new(call.file.span(), message)),
    };
    let problems = check(&metadata, &registered(&call));
    let mut errors = problems
        .into_iter()
        .map(|p| syn::Error::new(p.at, p.message));
    if let Some(mut first) = errors.next() {
        first.extend(errors);
        return with_errors(&call, first);
    }
    match builder(&call, &metadata) {
        Ok(tokens) => tokens,
        Err(error) => with_errors(&call, error),
    }
}

/// The errors, then the builder calls all the same: the expression keeps
/// its type and the registered values are still compiled, so the errors
/// come alone, without a warning about an unused import or a type error
/// in what is chained on (`.build()`).
fn with_errors(call: &ServiceInput, error: syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    let builder = builder_calls(call);
    quote! {
        {
            #errors
            #builder
        }
    }
}

fn keys(names: &[&KeyName]) -> Vec<Key<proc_macro2::Span>> {
    names
        .iter()
        .map(|k| Key {
            name: k.name.clone(),
            at: k.span,
        })
        .collect()
}

fn registered(call: &ServiceInput) -> Registered<proc_macro2::Span> {
    let whole = call.file.span();
    let use_cases: Vec<&KeyName> = call
        .use_cases
        .iter()
        .flat_map(|s| &s.entries)
        .map(|b| &b.key)
        .collect();
    let adapters: Vec<&KeyName> = call
        .adapters
        .iter()
        .flat_map(|s| &s.entries)
        .map(|b| &b.key)
        .collect();
    let blank: Vec<&KeyName> = call.blank.iter().flat_map(|s| &s.entries).collect();
    Registered {
        use_cases: keys(&use_cases),
        use_cases_at: call.use_cases.as_ref().map_or(whole, |s| s.label.span()),
        adapters: keys(&adapters),
        adapters_at: call.adapters.as_ref().map_or(whole, |s| s.label.span()),
        blank: keys(&blank),
    }
}

/// The builder calls, with the file included so that cargo rebuilds the
/// crate when it changes.
fn builder(call: &ServiceInput, metadata: &Metadata) -> syn::Result<TokenStream> {
    let tracked = crate::tracked_file(&metadata.absolute, call.file.span())?;
    let builder = builder_calls(call);
    Ok(quote! {
        {
            #tracked
            #builder
        }
    })
}

/// `Service::builder(metadata).use_case(..).adapter(..).blank(..)`.
fn builder_calls(call: &ServiceInput) -> TokenStream {
    let source = &call.metadata;
    let mut calls = TokenStream::new();
    for binding in call.use_cases.iter().flat_map(|s| &s.entries) {
        let key = LitStr::new(&binding.key.name, binding.key.span);
        let value = &binding.value;
        calls.extend(quote_spanned!(binding.key.span=> .use_case(#key, #value)));
    }
    for binding in call.adapters.iter().flat_map(|s| &s.entries) {
        let key = LitStr::new(&binding.key.name, binding.key.span);
        let value = &binding.value;
        calls.extend(quote_spanned!(binding.key.span=> .adapter(#key, #value)));
    }
    for name in call.blank.iter().flat_map(|s| &s.entries) {
        let key = LitStr::new(&name.name, name.span);
        calls.extend(quote_spanned!(name.span=> .blank(#key)));
    }
    quote! { ::bisslog::Service::builder(#source) #calls }
}

/// The errors of a call that does not even parse, in expression position.
/// `unreachable!()` gives the block the type `!`, so that no second error
/// follows from its type.
fn as_expression(error: syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    quote! {
        {
            #errors
            ::core::unreachable!()
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::expand;

    /// The expansion as text; the fixture is resolved against this crate's
    /// root, the `CARGO_MANIFEST_DIR` of its tests.
    fn expanded(input: proc_macro2::TokenStream) -> String {
        expand(input).to_string()
    }

    #[test]
    fn a_matching_call_expands_to_the_builder_calls_and_includes_the_file() {
        let out = expanded(quote! {
            "tests/ui/metadata/service.yml", metadata(), {
                use_cases: { greet: Greet, "create_schema": Greet },
                adapters: { schema_division: store.clone() },
                blank: [events],
            }
        });
        assert!(!out.contains("compile_error"), "{out}");
        assert!(out.contains("include_bytes"), "{out}");
        assert!(out.contains("tests/ui/metadata/service.yml"), "{out}");
        let calls = out
            .split_once(":: bisslog :: Service :: builder")
            .map(|(_, c)| c);
        let calls = calls.expect("a builder").replace(' ', "");
        assert_eq!(
            calls,
            "(metadata()).use_case(\"greet\",Greet).use_case(\"create_schema\",Greet).adapter(\"schema_division\",store.clone()).blank(\"events\")}"
        );
    }

    #[test]
    fn malformed_calls_are_compile_errors_not_panics() {
        let cases = [
            (quote! {}, "expected the metadata file's path first"),
            (
                quote! { metadata, "x" },
                "expected the metadata file's path first",
            ),
            (quote! { "tests/ui/metadata/service.yml" }, "expected `,`"),
            (
                quote! { "tests/ui/metadata/service.yml", m, { used_cases: {} } },
                "unknown section `used_cases`; did you mean `use_cases`?",
            ),
            (
                quote! { "tests/ui/metadata/service.yml", m, { other: {} } },
                "the sections are `use_cases`, `adapters` and `blank`",
            ),
            (
                quote! { "tests/ui/metadata/service.yml", m, { blank: [], blank: [] } },
                "the section `blank` is written twice",
            ),
            (
                quote! { "tests/ui/metadata/service.yml", m, { use_cases: { 3: x } } },
                "expected a keyname",
            ),
            (
                quote! { "tests/ui/metadata/service.yml", m, { use_cases: { a } } },
                "expected `:`",
            ),
            (
                quote! { "tests/ui/metadata/service.yml", m, {} extra },
                "unexpected tokens after",
            ),
            (quote! { "", m, {} }, "the metadata path is empty"),
            (
                quote! { "tests/ui/metadata", m, {} },
                "cannot read the metadata file `tests/ui/metadata`",
            ),
        ];
        for (input, message) in cases {
            let out = expanded(input.clone());
            assert!(out.contains("compile_error"), "{input}: {out}");
            assert!(
                out.contains(message),
                "{input}: expected {message:?} in {out}"
            );
        }
    }
}
