//! `keynames!`: one constant per keyname of the metadata file, so that
//! code naming a keyname fails to compile when it is misspelt.

use indexmap::IndexMap;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::LitStr;

use bisslog_schema::TriggerKind;

use crate::metadata::{self, Metadata};

/// One generated constant: its name, value and documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Constant {
    pub(crate) name: String,
    pub(crate) value: String,
    pub(crate) doc: String,
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let file: LitStr = match syn::parse2(input) {
        Ok(file) => file,
        Err(error) => {
            let message = "expected the metadata file's path, a string such as \"metadata.yml\"";
            return syn::Error::new(error.span(), message).to_compile_error();
        }
    };
    let metadata = match metadata::read(&file.value()) {
        Ok(metadata) => metadata,
        Err(message) => return syn::Error::new(file.span(), message).to_compile_error(),
    };
    match items(&metadata, file.span()) {
        Ok(tokens) => tokens,
        Err(error) => error.to_compile_error(),
    }
}

fn items(metadata: &Metadata, at: Span) -> syn::Result<TokenStream> {
    let tracked = crate::tracked_file(&metadata.absolute, at)?;
    let file = &metadata.shown;
    let service = &metadata.service.name;
    let use_cases = module(
        "use_cases",
        &format!("The use case keynames of `{file}` (service `{service}`)."),
        use_case_constants(metadata),
        at,
    )?;
    let interactions = module(
        "interactions",
        &format!(
            "The external interaction keynames of `{file}` (service `{service}`): what `adapters` binds."
        ),
        interaction_constants(metadata),
        at,
    )?;
    let queues = module(
        "queues",
        &format!("The queues the consumers of `{file}` (service `{service}`) consume."),
        queue_constants(metadata),
        at,
    )?;
    Ok(quote! { #tracked #use_cases #interactions #queues })
}

fn module(name: &str, doc: &str, constants: Vec<Constant>, at: Span) -> syn::Result<TokenStream> {
    let mut taken: IndexMap<String, String> = IndexMap::new();
    let mut items = TokenStream::new();
    for constant in constants {
        if let Some(other) = taken.get(&constant.name) {
            return Err(syn::Error::new(
                at,
                format!(
                    "the keynames `{other}` and `{}` both make the constant `{name}::{}`; rename one of them in the metadata",
                    constant.value, constant.name
                ),
            ));
        }
        taken.insert(constant.name.clone(), constant.value.clone());
        let ident = format_ident!("{}", constant.name, span = at);
        let value = LitStr::new(&constant.value, at);
        let doc = &constant.doc;
        items.extend(quote! {
            #[doc = #doc]
            pub const #ident: &str = #value;
        });
    }
    let ident = format_ident!("{}", name, span = at);
    Ok(quote! {
        #[doc = #doc]
        pub mod #ident { #items }
    })
}

/// The name of a keyname's constant: `getUser` and `get-user` make
/// `GET_USER`; `None` when no letter or digit is left.
pub(crate) fn constant_name(keyname: &str) -> Option<String> {
    let mut name = String::new();
    let mut previous: Option<char> = None;
    for c in keyname.chars() {
        if c.is_ascii_alphanumeric() {
            // camelCase: a capital after a lower-case letter or a digit starts a word.
            if c.is_ascii_uppercase()
                && previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
            {
                name.push('_');
            }
            name.push(c.to_ascii_uppercase());
        } else if !name.is_empty() && !name.ends_with('_') {
            name.push('_');
        }
        previous = Some(c);
    }
    let name = name.trim_end_matches('_');
    if name.is_empty() {
        return None;
    }
    Some(if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name.to_owned()
    })
}

fn named(keyname: &str, doc: String) -> Constant {
    Constant {
        // A keyname without a letter or digit still gets a usable (if
        // ugly) constant rather than failing the build.
        name: constant_name(keyname).unwrap_or_else(|| format!("KEYNAME_{}", keyname.len())),
        value: keyname.to_owned(),
        doc,
    }
}

pub(crate) fn use_case_constants(metadata: &Metadata) -> Vec<Constant> {
    metadata
        .service
        .use_cases
        .iter()
        .map(|(keyname, spec)| {
            let at = metadata.at(metadata.locations.use_case(keyname));
            let about = spec.description.as_deref().or(spec.name.as_deref());
            let doc = match about {
                Some(about) => format!("`{keyname}` ({at}): {}", about.trim()),
                None => format!("`{keyname}` ({at})."),
            };
            named(keyname, doc)
        })
        .collect()
}

pub(crate) fn interaction_constants(metadata: &Metadata) -> Vec<Constant> {
    let mut users: IndexMap<&str, Vec<String>> = IndexMap::new();
    let mut about: IndexMap<&str, &str> = IndexMap::new();
    for (use_case, spec) in &metadata.service.use_cases {
        for interaction in &spec.external_interactions {
            let keyname = interaction.keyname.as_str();
            let at = metadata.at(metadata.locations.interaction(use_case, keyname));
            users
                .entry(keyname)
                .or_default()
                .push(format!("`{use_case}` at {at}"));
            if let Some(description) = &interaction.description {
                about.entry(keyname).or_insert(description.trim());
            }
        }
    }
    users
        .into_iter()
        .map(|(keyname, by)| {
            let mut doc = format!("`{keyname}`, declared by {}.", by.join(", "));
            if let Some(description) = about.get(keyname) {
                doc = format!("{doc} {description}");
            }
            named(keyname, doc)
        })
        .collect()
}

pub(crate) fn queue_constants(metadata: &Metadata) -> Vec<Constant> {
    let mut consumers: IndexMap<&str, Vec<String>> = IndexMap::new();
    for (use_case, spec) in &metadata.service.use_cases {
        for trigger in &spec.triggers {
            if let TriggerKind::Consumer(consumer) = &trigger.kind {
                consumers
                    .entry(consumer.queue.as_str())
                    .or_default()
                    .push(format!("`{use_case}`"));
            }
        }
    }
    consumers
        .into_iter()
        .map(|(queue, by)| named(queue, format!("`{queue}`, consumed by {}.", by.join(", "))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bisslog_schema::validate_str;

    #[test]
    fn constant_names_are_screaming_snake_case() {
        assert_eq!(constant_name("greet").as_deref(), Some("GREET"));
        assert_eq!(constant_name("getUser").as_deref(), Some("GET_USER"));
        assert_eq!(constant_name("get-user").as_deref(), Some("GET_USER"));
        assert_eq!(
            constant_name("company.data.created").as_deref(),
            Some("COMPANY_DATA_CREATED")
        );
        assert_eq!(constant_name("v2Schema").as_deref(), Some("V2_SCHEMA"));
        assert_eq!(constant_name("2fa").as_deref(), Some("_2FA"));
        assert_eq!(constant_name("--x--").as_deref(), Some("X"));
        assert_eq!(constant_name("--"), None);
        assert_eq!(constant_name("ñ"), None);
    }

    fn metadata(yaml: &str) -> Metadata {
        let report = validate_str("metadata.yml", yaml);
        let locations = report.locations().clone();
        Metadata {
            shown: "metadata.yml".to_owned(),
            absolute: "metadata.yml".into(),
            service: report.into_service().expect("valid metadata"),
            locations,
        }
    }

    const FILE: &str = "\
name: registry
use_cases:
  getUser:
    description: Reads a user.
    external_interactions:
      - keyname: users
        description: The user store.
  importUsers:
    triggers:
      - type: consumer
        options: {queue: users.imported}
    external_interactions:
      - keyname: users
";

    #[test]
    fn every_keyname_has_a_documented_constant() {
        let metadata = metadata(FILE);
        assert_eq!(
            use_case_constants(&metadata),
            vec![
                Constant {
                    name: "GET_USER".into(),
                    value: "getUser".into(),
                    doc: "`getUser` (metadata.yml:3:3): Reads a user.".into()
                },
                Constant {
                    name: "IMPORT_USERS".into(),
                    value: "importUsers".into(),
                    doc: "`importUsers` (metadata.yml:8:3).".into()
                },
            ]
        );
        assert_eq!(
            interaction_constants(&metadata),
            vec![Constant {
                name: "USERS".into(),
                value: "users".into(),
                doc: "`users`, declared by `getUser` at metadata.yml:6:18, `importUsers` at metadata.yml:13:18. The user store.".into(),
            }]
        );
        assert_eq!(
            queue_constants(&metadata),
            vec![Constant {
                name: "USERS_IMPORTED".into(),
                value: "users.imported".into(),
                doc: "`users.imported`, consumed by `importUsers`.".into()
            }]
        );
    }

    #[test]
    fn two_keynames_making_one_constant_are_an_error() {
        let metadata = metadata("name: x\nuse_cases:\n  getUser: {}\n  get_user: {}\n");
        let error = module(
            "use_cases",
            "doc",
            use_case_constants(&metadata),
            Span::call_site(),
        )
        .expect_err("a collision");
        assert_eq!(
            error.to_string(),
            "the keynames `getUser` and `get_user` both make the constant `use_cases::GET_USER`; rename one of them in the metadata"
        );
    }
}

#[cfg(test)]
mod expansion_tests {
    use quote::quote;

    use super::expand;

    #[test]
    fn generates_three_documented_modules_and_includes_the_file() {
        let out = expand(quote! { "tests/ui/metadata/service.yml" }).to_string();
        assert!(!out.contains("compile_error"), "{out}");
        assert!(out.contains("include_bytes"), "{out}");
        for item in [
            "pub mod use_cases",
            "pub const GREET : & str = \"greet\"",
            "pub mod interactions",
            "pub const SCHEMA_DIVISION : & str = \"schema_division\"",
            "pub mod queues",
            "pub const SCHEMAS_REQUESTED : & str = \"schemas.requested\"",
            "`greet` (tests/ui/metadata/service.yml:3:3): Greets someone.",
        ] {
            assert!(out.contains(item), "{item:?} not in {out}");
        }
    }

    #[test]
    fn anything_but_one_path_is_a_compile_error() {
        for input in [quote! {}, quote! { metadata }, quote! { "a.yml", "b.yml" }] {
            let out = expand(input.clone()).to_string();
            assert!(out.contains("compile_error"), "{input}: {out}");
            assert!(
                out.contains("expected the metadata file's path"),
                "{input}: {out}"
            );
        }
        let out = expand(quote! { "tests/ui/metadata/invalid.yml" }).to_string();
        assert!(
            out.contains("has 1 error(s)") && out.contains("E034"),
            "{out}"
        );
    }
}
