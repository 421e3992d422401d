//! `ctx.call(&other, input)` inside a service goes through the same
//! dispatch as any trigger: the callee is named by its metadata keyname
//! (not its Rust type), its start and end are logged, a panic in it fails
//! the nested call instead of crashing the caller, and it runs in the
//! caller's unit of work.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::{Arc, Mutex};

use bisslog_core::{Ctx, Error, ErrorKind, NoInput, Trigger, UseCase, UseCaseError};
use bisslog_messaging::{current, work};
use bisslog_runtime::{MemoryInbox, Service, mapper::Mapped};
use tracing::instrument::WithSubscriber as _;
use tracing_subscriber::layer::{Context, SubscriberExt as _};

const METADATA: &str = "
name: registry
use_cases:
  register:
    name: register
    triggers: [{type: http, options: {path: /register, method: POST}}]
  lookup:
    name: lookup
    triggers: [{type: http, options: {path: /lookup}}]
  explode:
    name: explode
    triggers: [{type: http, options: {path: /explode}}]
";

/// What the caller saw of its nested calls.
#[derive(Debug, Default, serde::Serialize, schemars::JsonSchema)]
struct Seen {
    child_use_case: String,
    child_is_current: bool,
    child_parent_is_caller: bool,
    same_work: bool,
    explode: Option<(String, String)>,
}

struct Register;

impl UseCase for Register {
    type Input = NoInput;
    type Output = Seen;
    type Error = Error;

    async fn run(&self, ctx: &Ctx, _: NoInput) -> Result<Seen, Error> {
        let own_work = work_address(ctx);
        let (child_use_case, child_is_current, child_parent, child_work) =
            ctx.call(&Lookup, NoInput).await?;
        let explode = ctx
            .call(&Explode, NoInput)
            .await
            .err()
            .map(|e| (e.kind().as_str().to_owned(), e.code().into_owned()));
        Ok(Seen {
            child_use_case,
            child_is_current,
            child_parent_is_caller: child_parent.as_deref()
                == Some(&*ctx.transaction_id().to_string()),
            same_work: own_work.is_some() && own_work == child_work,
            explode,
        })
    }
}

struct Lookup;

/// Its keyname, whether its context is the current one, its parent
/// transaction, and where its unit of work is.
type LookupOutput = (String, bool, Option<String>, Option<usize>);

/// Where a call's unit of work is, to compare two calls' works.
fn work_address(ctx: &Ctx) -> Option<usize> {
    work::of(ctx).map(|w| Arc::as_ptr(&w).cast::<()>() as usize)
}

impl UseCase for Lookup {
    type Input = NoInput;
    type Output = LookupOutput;
    type Error = Error;

    async fn run(&self, ctx: &Ctx, _: NoInput) -> Result<LookupOutput, Error> {
        let is_current = current::with(|c| {
            c.map(|c| c.transaction_id() == ctx.transaction_id())
                .unwrap_or(false)
        });
        Ok((
            ctx.use_case().to_owned(),
            is_current,
            ctx.parent_transaction_id().map(ToString::to_string),
            work_address(ctx),
        ))
    }
}

struct Explode;

impl UseCase for Explode {
    type Input = NoInput;
    type Output = ();
    type Error = Error;

    async fn run(&self, _: &Ctx, _: NoInput) -> Result<(), Error> {
        panic!("the lookup table is on fire")
    }
}

/// Records the `checkpoint_id` of every event: the start and end logs.
#[derive(Clone, Default)]
struct Checkpoints(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Checkpoints {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        struct Visit(Option<String>);
        impl tracing::field::Visit for Visit {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "checkpoint_id" {
                    self.0 = Some(format!("{value:?}"));
                }
            }
        }
        let mut visit = Visit(None);
        event.record(&mut visit);
        if let Some(id) = visit.0 {
            self.0.lock().unwrap().push(id);
        }
    }
}

fn service() -> Service {
    let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .unwrap();
    Service::builder(metadata)
        .use_case("register", Register)
        .use_case("lookup", Lookup)
        .use_case("explode", Explode)
        .unit_of_work(MemoryInbox::new())
        .build()
        .unwrap()
}

#[tokio::test]
async fn nested_calls_are_dispatched_like_any_trigger() {
    let checkpoints = Checkpoints::default();
    let subscriber = tracing_subscriber::registry().with(checkpoints.clone());
    let service = service();
    let register = service.use_case("register").unwrap();
    // Made inside the subscribed future: the start is logged at once.
    let reply = async {
        register
            .call(Ctx::new("register", Trigger::Http), &Mapped::object())
            .await
    }
    .with_subscriber(subscriber)
    .await
    .unwrap();
    let seen: serde_json::Value = serde_json::from_slice(reply.body.as_deref().unwrap()).unwrap();

    // The callee's context is named by its metadata keyname, is the
    // current one while it runs, is a child of the caller's, and shares
    // the caller's unit of work.
    assert_eq!(seen["child_use_case"], "lookup");
    assert_eq!(seen["child_is_current"], true);
    assert_eq!(seen["child_parent_is_caller"], true);
    assert_eq!(seen["same_work"], true);
    // The panicking callee failed its call; the caller went on.
    assert_eq!(seen["explode"], serde_json::json!(["internal", "panic"]));

    assert_eq!(
        *checkpoints.0.lock().unwrap(),
        [
            "start-register",
            "start-lookup",
            "end-lookup",
            "start-explode",
            "end-explode",
            "end-register"
        ]
    );
}

#[tokio::test]
async fn a_callee_registered_under_no_keyname_is_named_after_its_type() {
    struct Unregistered;
    impl UseCase for Unregistered {
        type Input = NoInput;
        type Output = String;
        type Error = Error;
        async fn run(&self, ctx: &Ctx, _: NoInput) -> Result<String, Error> {
            Ok(ctx.use_case().to_owned())
        }
    }
    struct Caller;
    impl UseCase for Caller {
        type Input = NoInput;
        type Output = String;
        type Error = Error;
        async fn run(&self, ctx: &Ctx, _: NoInput) -> Result<String, Error> {
            ctx.call(&Unregistered, NoInput).await
        }
    }
    let metadata = bisslog_schema::validate_str(
        "metadata.yml",
        "name: s\nuse_cases:\n  caller:\n    name: caller\n    triggers: [{type: http, options: {path: /c}}]\n",
    )
    .into_service()
    .unwrap();
    let service = Service::builder(metadata)
        .use_case("caller", Caller)
        .build()
        .unwrap();
    let reply = service
        .use_case("caller")
        .unwrap()
        .call(Ctx::new("caller", Trigger::Direct), &Mapped::object())
        .await
        .unwrap();
    assert_eq!(reply.body.as_deref(), Some(&br#""Unregistered""#[..]));
}

#[tokio::test]
async fn a_callee_error_reaches_the_caller_as_it_is() {
    struct Missing;
    impl UseCase for Missing {
        type Input = NoInput;
        type Output = ();
        type Error = Error;
        async fn run(&self, _: &Ctx, _: NoInput) -> Result<(), Error> {
            Err(Error::not_found("thing-not-found", "no such thing"))
        }
    }
    struct Caller;
    impl UseCase for Caller {
        type Input = NoInput;
        type Output = ();
        type Error = Error;
        async fn run(&self, ctx: &Ctx, _: NoInput) -> Result<(), Error> {
            ctx.call(&Missing, NoInput).await
        }
    }
    let metadata = bisslog_schema::validate_str(
        "metadata.yml",
        "name: s\nuse_cases:\n  caller:\n    name: caller\n    triggers: [{type: http, options: {path: /c}}]\n  missing:\n    name: missing\n    triggers: [{type: http, options: {path: /m}}]\n",
    )
    .into_service()
    .unwrap();
    let service = Service::builder(metadata)
        .use_case("caller", Caller)
        .use_case("missing", Missing)
        .build()
        .unwrap();
    let failure = service
        .use_case("caller")
        .unwrap()
        .call(Ctx::new("caller", Trigger::Direct), &Mapped::object())
        .await
        .unwrap_err();
    assert_eq!(failure.kind(), ErrorKind::NotFound);
    assert_eq!(failure.code(), "thing-not-found");
}
