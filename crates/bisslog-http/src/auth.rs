//! Authenticators: the named checks a route's `authenticator` refers to.

use bisslog_core::{BoxFuture, Error};

/// Checks a request's credentials before its use case runs. A route whose
/// metadata says `authenticator: user` uses the authenticator registered
/// under `user`; the service refuses to start when one is missing.
///
/// On success it returns the caller's attributes, which become context
/// attributes (mappers read them as `context.<name>`, use cases with
/// `ctx.attribute(name)`). An error of kind `Unauthenticated` answers 401,
/// `NotAllowed` 403.
///
/// The request's transaction id is in its extensions
/// (`request.extensions.get::<bisslog_core::TransactionId>()`), so that an
/// authenticator can log why it refused a caller under the same id the
/// caller is answered with.
///
/// ```
/// use bisslog_core::{BoxFuture, Error};
/// use bisslog_http::Authenticator;
///
/// /// Accepts `Authorization: Bearer <user id>` (for examples only).
/// struct BearerIsUser;
///
/// impl Authenticator for BearerIsUser {
///     fn authenticate<'a>(
///         &'a self,
///         request: &'a http::request::Parts,
///     ) -> BoxFuture<'a, Result<serde_json::Map<String, serde_json::Value>, Error>> {
///         Box::pin(async move {
///             let user = request
///                 .headers
///                 .get(http::header::AUTHORIZATION)
///                 .and_then(|v| v.to_str().ok())
///                 .and_then(|v| v.strip_prefix("Bearer "))
///                 .ok_or_else(|| Error::unauthenticated("no-credentials", "a bearer token is required"))?;
///             let mut attributes = serde_json::Map::new();
///             attributes.insert("user_id".into(), user.into());
///             Ok(attributes)
///         })
///     }
/// }
/// ```
pub trait Authenticator: Send + Sync + 'static {
    /// Checks the request; the caller's attributes, or why it is refused.
    fn authenticate<'a>(
        &'a self,
        request: &'a http::request::Parts,
    ) -> BoxFuture<'a, Result<serde_json::Map<String, serde_json::Value>, Error>>;

    /// The `WWW-Authenticate` header of a 401 answer to `refusal` (RFC 9110
    /// §11.6.1), telling the caller which scheme to use; none by default.
    fn challenge(&self, refusal: &Error) -> Option<http::HeaderValue> {
        let _ = refusal;
        None
    }

    /// The OpenAPI Security Scheme Object describing the credentials this
    /// authenticator checks, which the served document
    /// ([`ApiDocs`](crate::ApiDocs)) lists under the name it is registered
    /// with. `None` by default: the document then says it is a bearer
    /// token ([`bisslog_openapi::undescribed_scheme`]), and says that
    /// nothing describes it.
    ///
    /// ```
    /// # use bisslog_core::{BoxFuture, Error};
    /// # use bisslog_http::Authenticator;
    /// struct Partner;
    ///
    /// impl Authenticator for Partner {
    /// #   fn authenticate<'a>(&'a self, _: &'a http::request::Parts)
    /// #       -> BoxFuture<'a, Result<serde_json::Map<String, serde_json::Value>, Error>> {
    /// #       Box::pin(async { Ok(serde_json::Map::new()) })
    /// #   }
    ///     fn security_scheme(&self) -> Option<serde_json::Value> {
    ///         Some(serde_json::json!({"type": "apiKey", "in": "header", "name": "x-partner-key"}))
    ///     }
    /// }
    /// ```
    fn security_scheme(&self) -> Option<serde_json::Value> {
        None
    }
}

/// A shared authenticator: the same one registered under several names,
/// or kept by the caller too (an [`ApiKeys`](crate::api_key::ApiKeys)
/// whose keys it rotates at run time).
impl<A: Authenticator + ?Sized> Authenticator for std::sync::Arc<A> {
    fn authenticate<'a>(
        &'a self,
        request: &'a http::request::Parts,
    ) -> BoxFuture<'a, Result<serde_json::Map<String, serde_json::Value>, Error>> {
        (**self).authenticate(request)
    }

    fn challenge(&self, refusal: &Error) -> Option<http::HeaderValue> {
        (**self).challenge(refusal)
    }

    fn security_scheme(&self) -> Option<serde_json::Value> {
        (**self).security_scheme()
    }
}

/// A caller an outer layer already authenticated: put in a request's
/// extensions by code in front of the router (the AWS Lambda entry point
/// puts there the claims of an API Gateway authorizer), never by the
/// network, since no client can set an extension.
///
/// On a route without an authenticator (or whose rule is `public`), the
/// extension's attributes are the caller's: they become context attributes
/// and the route's `authorization` rule is decided against them, as if an
/// authenticator had returned them. On a route with an authenticator, the
/// authenticator still runs and only its attributes count.
///
/// ```
/// use bisslog_http::GatewayCaller;
///
/// let mut request = http::Request::new(axum::body::Body::empty());
/// let claims = serde_json::json!({"sub": "ana", "roles": ["admin"]});
/// if let serde_json::Value::Object(claims) = claims {
///     request.extensions_mut().insert(GatewayCaller(claims));
/// }
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GatewayCaller(pub serde_json::Map<String, serde_json::Value>);
