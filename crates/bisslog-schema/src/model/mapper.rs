//! Mappers: which part of a request or message fills which argument of
//! the use case.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// The part of an incoming request or message a mapper reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourcePart {
    /// HTTP path variables (`path_query.user_id`).
    PathQuery,
    /// HTTP query-string parameters (`params.page`).
    Params,
    /// The JSON body (`body`, `body.a.b`).
    Body,
    /// Request or message headers, matched case-insensitively
    /// (`headers.x-user`).
    Headers,
    /// Values the runtime puts in the call context, such as the
    /// authenticated user (`context.user_id`).
    Context,
    /// The WebSocket connection id.
    ConnectionId,
    /// The WebSocket route key.
    RouteKey,
    /// A consumed message's payload (`event`, `event.schema_keyname`).
    Event,
}

impl SourcePart {
    /// Every part, in documentation order.
    pub const ALL: [SourcePart; 8] = [
        SourcePart::PathQuery,
        SourcePart::Params,
        SourcePart::Body,
        SourcePart::Headers,
        SourcePart::Context,
        SourcePart::ConnectionId,
        SourcePart::RouteKey,
        SourcePart::Event,
    ];

    /// The prefix as written in a mapper (`path_query`).
    pub const fn prefix(self) -> &'static str {
        match self {
            SourcePart::PathQuery => "path_query",
            SourcePart::Params => "params",
            SourcePart::Body => "body",
            SourcePart::Headers => "headers",
            SourcePart::Context => "context",
            SourcePart::ConnectionId => "connection_id",
            SourcePart::RouteKey => "route_key",
            SourcePart::Event => "event",
        }
    }

    /// The part a prefix names.
    pub fn from_prefix(prefix: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.prefix() == prefix)
    }
}

/// A mapper source such as `body.address.city`: a part and a path inside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MapperSource {
    /// Which part of the request or message.
    pub part: SourcePart,
    /// The keys to follow inside that part; empty for the whole part.
    pub path: Vec<String>,
}

impl std::fmt::Display for MapperSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.part.prefix())?;
        for key in &self.path {
            write!(f, ".{key}")?;
        }
        Ok(())
    }
}

/// One line of a mapper: `source: target`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MapperEntry {
    /// Where the value comes from.
    pub source: MapperSource,
    /// The argument it fills; dots nest (`address.city`).
    pub target: String,
}

/// A trigger's mapper, in the order the file lists it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mapper {
    /// The entries.
    pub entries: Vec<MapperEntry>,
}

impl Serialize for Mapper {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for entry in &self.entries {
            map.serialize_entry(&entry.source.to_string(), &entry.target)?;
        }
        map.end()
    }
}
