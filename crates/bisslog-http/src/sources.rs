//! An HTTP request as the mapper sees it.

use std::sync::OnceLock;

use bisslog_runtime::mapper::{Body, Sources};
use http::HeaderMap;

/// The parts of one request: positional path variables named as the
/// route declares them, the raw query string (parsed on first use), the
/// headers and the JSON body.
pub(crate) struct HttpSources<'a> {
    pub(crate) path: Vec<(&'a str, &'a str)>,
    pub(crate) query: &'a str,
    pub(crate) parsed_query: OnceLock<Vec<(String, String)>>,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: Option<Body<'a>>,
}

impl HttpSources<'_> {
    fn query_pairs(&self) -> &[(String, String)] {
        self.parsed_query.get_or_init(|| {
            let mut pairs: Vec<(String, String)> = Vec::new();
            for (key, value) in form_urlencoded::parse(self.query.as_bytes()) {
                // The first value of a repeated parameter wins.
                if !pairs.iter().any(|(k, _)| *k == key) {
                    pairs.push((key.into_owned(), value.into_owned()));
                }
            }
            pairs
        })
    }
}

impl Sources for HttpSources<'_> {
    fn path_var(&self, name: &str) -> Option<&str> {
        self.path.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }

    fn path_vars(&self) -> Vec<(&str, &str)> {
        self.path.clone()
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.query_pairs()
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn params(&self) -> Vec<(&str, &str)> {
        self.query_pairs()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    fn header(&self, name: &str) -> Option<&str> {
        crate::headers::text(self.headers, name)
    }

    fn headers(&self) -> Vec<(&str, &str)> {
        crate::headers::all_text(self.headers)
    }

    fn body(&self) -> Option<&Body<'_>> {
        self.body.as_ref()
    }
}
