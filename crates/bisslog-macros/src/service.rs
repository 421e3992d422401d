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
