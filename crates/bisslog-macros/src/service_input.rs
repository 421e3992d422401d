//! The syntax of a `service!` call:
//!
//! ```text
//! service!("metadata.yml", <metadata expression>, {
//!     use_cases: { greet: Greet, "get-user": GetUser },
//!     adapters: { schema_division: store.clone() },
//!     blank: [notifications],
//! })
//! ```

use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, LitStr, Token, braced, bracketed};

/// A keyname as written: a Rust identifier (`greet`) or a string
/// (`"get-user"`) for keynames that are not identifiers.
pub(crate) struct KeyName {
    pub(crate) name: String,
    pub(crate) span: Span,
}

impl Parse for KeyName {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(LitStr) {
            let literal: LitStr = input.parse()?;
            return Ok(Self {
                name: literal.value(),
                span: literal.span(),
            });
        }
        if input.peek(Ident::peek_any) {
            let ident = Ident::parse_any(input)?;
            let name = ident.unraw().to_string();
            return Ok(Self {
                name,
                span: ident.span(),
            });
        }
        Err(input.error(
            "expected a keyname: an identifier such as `greet`, or a string such as \"get-user\"",
        ))
    }
}

/// `keyname: expression`.
pub(crate) struct Binding {
    pub(crate) key: KeyName,
    pub(crate) value: Expr,
}

/// One `label: ...` section; `label` is where problems about what is
/// missing from it are reported.
pub(crate) struct Section<T> {
    pub(crate) label: Ident,
    pub(crate) entries: Vec<T>,
}

/// The whole call.
pub(crate) struct ServiceInput {
    pub(crate) file: LitStr,
    pub(crate) metadata: Expr,
    pub(crate) use_cases: Option<Section<Binding>>,
    pub(crate) adapters: Option<Section<Binding>>,
    pub(crate) blank: Option<Section<KeyName>>,
}

const SECTIONS: [&str; 3] = ["use_cases", "adapters", "blank"];

impl Parse for ServiceInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let file: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the metadata file's path first, a string such as \"metadata.yml\"",
            )
        })?;
        input.parse::<Token![,]>()?;
        let metadata: Expr = input.parse()?;
        input.parse::<Token![,]>()?;
        let body;
        braced!(body in input);
        let _ = input.parse::<Option<Token![,]>>()?;
        if !input.is_empty() {
            return Err(input.error(
                "unexpected tokens after the `{ use_cases: .., adapters: .., blank: .. }` block",
            ));
        }
        let mut call = Self {
            file,
            metadata,
            use_cases: None,
            adapters: None,
            blank: None,
        };
        while !body.is_empty() {
            let label: Ident = body.parse()?;
            body.parse::<Token![:]>()?;
            let name = label.to_string();
            let taken = match name.as_str() {
                "use_cases" => call.use_cases.is_some(),
                "adapters" => call.adapters.is_some(),
                "blank" => call.blank.is_some(),
                _ => {
                    let hint = match crate::suggest::closest(&name, SECTIONS) {
                        Some(near) => format!("; did you mean `{near}`?"),
                        None => "; the sections are `use_cases`, `adapters` and `blank`".to_owned(),
                    };
                    return Err(syn::Error::new(
                        label.span(),
                        format!("unknown section `{name}`{hint}"),
                    ));
                }
            };
            if taken {
                return Err(syn::Error::new(
                    label.span(),
                    format!("the section `{name}` is written twice"),
                ));
            }
            match name.as_str() {
                "use_cases" => {
                    call.use_cases = Some(Section {
                        entries: bindings(&body)?,
                        label,
                    })
                }
                "adapters" => {
                    call.adapters = Some(Section {
                        entries: bindings(&body)?,
                        label,
                    })
                }
                _ => {
                    call.blank = Some(Section {
                        entries: names(&body)?,
                        label,
                    })
                }
            }
            if body.is_empty() {
                break;
            }
            body.parse::<Token![,]>()?;
        }
        Ok(call)
    }
}

/// `{ keyname: expression, ... }`.
fn bindings(input: ParseStream<'_>) -> syn::Result<Vec<Binding>> {
    let inner;
    braced!(inner in input);
    let mut entries = Vec::new();
    while !inner.is_empty() {
        let key: KeyName = inner.parse()?;
        inner.parse::<Token![:]>()?;
        let value: Expr = inner.parse()?;
        entries.push(Binding { key, value });
        if inner.is_empty() {
            break;
        }
        inner.parse::<Token![,]>()?;
    }
    Ok(entries)
}

/// `[keyname, ...]`.
fn names(input: ParseStream<'_>) -> syn::Result<Vec<KeyName>> {
    let inner;
    bracketed!(inner in input);
    let parsed = inner.parse_terminated(KeyName::parse, Token![,])?;
    Ok(parsed.into_iter().collect())
}
