//! What a change is: its kind, its severity, where it is.

/// What a change means for the service's callers and other services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeSeverity {
    /// Callers or other services that worked with the old version may
    /// fail with the new one.
    Breaking,
    /// Nothing that worked stops working.
    Compatible,
    /// Worth knowing, but not breaking for callers.
    Notice,
}

impl ChangeSeverity {
    /// The lower-case name (`breaking`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ChangeSeverity::Breaking => "breaking",
            ChangeSeverity::Compatible => "compatible",
            ChangeSeverity::Notice => "notice",
        }
    }
}

impl std::fmt::Display for ChangeSeverity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds of change, each with a stable id ([`ChangeKind::id`]) and a
/// fixed severity ([`ChangeKind::severity`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    /// A service is gone (directory comparisons).
    ServiceRemoved,
    /// A service is new (directory comparisons).
    ServiceAdded,
    /// The service's `name` changed.
    ServiceRenamed,
    /// A use case is gone (a rename is a removal and an addition).
    UseCaseRemoved,
    /// A use case is new.
    UseCaseAdded,
    /// A use case no longer has any trigger of a kind it had.
    TriggerKindRemoved,
    /// A use case has a trigger kind it did not have.
    TriggerKindAdded,
    /// An HTTP route (method and path) is gone.
    HttpRouteRemoved,
    /// An HTTP route's method or path changed.
    HttpRouteChanged,
    /// An HTTP route is new.
    HttpRouteAdded,
    /// A WebSocket route key is gone.
    WebSocketRouteRemoved,
    /// A WebSocket route key is new.
    WebSocketRouteAdded,
    /// A consumed queue is gone.
    ConsumerQueueRemoved,
    /// A consumer's queue changed.
    ConsumerQueueChanged,
    /// A consumed queue is new.
    ConsumerQueueAdded,
    /// An HTTP route, WebSocket route key or consumed queue left a use
    /// case for another one: callers still reach the service.
    TriggerMoved,
    /// A mapper source callers send is no longer read.
    MapperSourceRemoved,
    /// A mapper source now fills a different argument.
    MapperTargetRenamed,
    /// A mapper reads a source it did not read: callers may have to send it.
    MapperSourceAdded,
    /// A queue a publisher interaction published to is no longer named.
    PublishedQueueRemoved,
    /// A publisher interaction names a new queue.
    PublishedQueueAdded,
    /// (directories) A queue a service consumes is published by no service
    /// any more, though one published it before.
    ConsumedQueueUnpublished,
    /// A schedule trigger's cron, time zone or event changed.
    ScheduleChanged,
    /// A use case's criticality went up.
    CriticalityRaised,
    /// A use case's criticality went down.
    CriticalityLowered,
    /// A human-readable `name` changed.
    NameChanged,
    /// A `description` changed.
    DescriptionChanged,
    /// (OpenAPI) An operation (method and path) is gone.
    OperationRemoved,
    /// (OpenAPI) An operation is new.
    OperationAdded,
    /// (OpenAPI) A parameter callers send is no longer read.
    ParameterRemoved,
    /// (OpenAPI) A parameter is new and required, or became required.
    ParameterRequired,
    /// (OpenAPI) An optional parameter is new.
    ParameterAdded,
    /// (OpenAPI) A request body is now required, or no longer read.
    RequestBodyChanged,
    /// (OpenAPI) A request media type callers send is no longer accepted.
    RequestMediaTypeRemoved,
    /// (OpenAPI) A request field is new and required, or became required.
    RequestFieldRequired,
    /// (OpenAPI) A request field callers send is no longer read.
    RequestFieldRemoved,
    /// (OpenAPI) An optional request field is new.
    RequestFieldAdded,
    /// (OpenAPI) A value callers send no longer accepts a type or value it
    /// accepted.
    RequestTypeNarrowed,
    /// (OpenAPI) A success status callers received is gone.
    SuccessStatusRemoved,
    /// (OpenAPI) A success status is new.
    SuccessStatusAdded,
    /// (OpenAPI) An error status is new: callers may meet an answer they
    /// do not handle.
    ErrorStatusAdded,
    /// (OpenAPI) A response media type callers read is no longer sent.
    ResponseMediaTypeRemoved,
    /// (OpenAPI) A response field callers read is gone.
    ResponseFieldRemoved,
    /// (OpenAPI) A response field that was always present may be missing.
    ResponseFieldOptional,
    /// (OpenAPI) A response field is new.
    ResponseFieldAdded,
    /// (OpenAPI) A value callers read may now have a type or value it
    /// could not have.
    ResponseTypeWidened,
    /// (OpenAPI) A schema changed in a way not classified above (`anyOf`,
    /// `oneOf`, constraints): read it.
    SchemaChanged,
}

impl ChangeKind {
    /// Every kind, in declaration order.
    pub const ALL: &'static [ChangeKind] = &[
        ChangeKind::ServiceRemoved,
        ChangeKind::ServiceAdded,
        ChangeKind::ServiceRenamed,
        ChangeKind::UseCaseRemoved,
        ChangeKind::UseCaseAdded,
        ChangeKind::TriggerKindRemoved,
        ChangeKind::TriggerKindAdded,
        ChangeKind::HttpRouteRemoved,
        ChangeKind::HttpRouteChanged,
        ChangeKind::HttpRouteAdded,
        ChangeKind::WebSocketRouteRemoved,
        ChangeKind::WebSocketRouteAdded,
        ChangeKind::ConsumerQueueRemoved,
        ChangeKind::ConsumerQueueChanged,
        ChangeKind::ConsumerQueueAdded,
        ChangeKind::TriggerMoved,
        ChangeKind::MapperSourceRemoved,
        ChangeKind::MapperTargetRenamed,
        ChangeKind::MapperSourceAdded,
        ChangeKind::PublishedQueueRemoved,
        ChangeKind::PublishedQueueAdded,
        ChangeKind::ConsumedQueueUnpublished,
        ChangeKind::ScheduleChanged,
        ChangeKind::CriticalityRaised,
        ChangeKind::CriticalityLowered,
        ChangeKind::NameChanged,
        ChangeKind::DescriptionChanged,
        ChangeKind::OperationRemoved,
        ChangeKind::OperationAdded,
        ChangeKind::ParameterRemoved,
        ChangeKind::ParameterRequired,
        ChangeKind::ParameterAdded,
        ChangeKind::RequestBodyChanged,
        ChangeKind::RequestMediaTypeRemoved,
        ChangeKind::RequestFieldRequired,
        ChangeKind::RequestFieldRemoved,
        ChangeKind::RequestFieldAdded,
        ChangeKind::RequestTypeNarrowed,
        ChangeKind::SuccessStatusRemoved,
        ChangeKind::SuccessStatusAdded,
        ChangeKind::ErrorStatusAdded,
        ChangeKind::ResponseMediaTypeRemoved,
        ChangeKind::ResponseFieldRemoved,
        ChangeKind::ResponseFieldOptional,
        ChangeKind::ResponseFieldAdded,
        ChangeKind::ResponseTypeWidened,
        ChangeKind::SchemaChanged,
    ];

    /// The stable id (`use-case-removed`).
    pub const fn id(self) -> &'static str {
        match self {
            ChangeKind::ServiceRemoved => "service-removed",
            ChangeKind::ServiceAdded => "service-added",
            ChangeKind::ServiceRenamed => "service-renamed",
            ChangeKind::UseCaseRemoved => "use-case-removed",
            ChangeKind::UseCaseAdded => "use-case-added",
            ChangeKind::TriggerKindRemoved => "trigger-kind-removed",
            ChangeKind::TriggerKindAdded => "trigger-kind-added",
            ChangeKind::HttpRouteRemoved => "http-route-removed",
            ChangeKind::HttpRouteChanged => "http-route-changed",
            ChangeKind::HttpRouteAdded => "http-route-added",
            ChangeKind::WebSocketRouteRemoved => "websocket-route-removed",
            ChangeKind::WebSocketRouteAdded => "websocket-route-added",
            ChangeKind::ConsumerQueueRemoved => "consumer-queue-removed",
            ChangeKind::ConsumerQueueChanged => "consumer-queue-changed",
            ChangeKind::ConsumerQueueAdded => "consumer-queue-added",
            ChangeKind::TriggerMoved => "trigger-moved",
            ChangeKind::MapperSourceRemoved => "mapper-source-removed",
            ChangeKind::MapperTargetRenamed => "mapper-target-renamed",
            ChangeKind::MapperSourceAdded => "mapper-source-added",
            ChangeKind::PublishedQueueRemoved => "published-queue-removed",
            ChangeKind::PublishedQueueAdded => "published-queue-added",
            ChangeKind::ConsumedQueueUnpublished => "consumed-queue-unpublished",
            ChangeKind::ScheduleChanged => "schedule-changed",
            ChangeKind::CriticalityRaised => "criticality-raised",
            ChangeKind::CriticalityLowered => "criticality-lowered",
            ChangeKind::NameChanged => "name-changed",
            ChangeKind::DescriptionChanged => "description-changed",
            ChangeKind::OperationRemoved => "operation-removed",
            ChangeKind::OperationAdded => "operation-added",
            ChangeKind::ParameterRemoved => "parameter-removed",
            ChangeKind::ParameterRequired => "parameter-required",
            ChangeKind::ParameterAdded => "parameter-added",
            ChangeKind::RequestBodyChanged => "request-body-changed",
            ChangeKind::RequestMediaTypeRemoved => "request-media-type-removed",
            ChangeKind::RequestFieldRequired => "request-field-required",
            ChangeKind::RequestFieldRemoved => "request-field-removed",
            ChangeKind::RequestFieldAdded => "request-field-added",
            ChangeKind::RequestTypeNarrowed => "request-type-narrowed",
            ChangeKind::SuccessStatusRemoved => "success-status-removed",
            ChangeKind::SuccessStatusAdded => "success-status-added",
            ChangeKind::ErrorStatusAdded => "error-status-added",
            ChangeKind::ResponseMediaTypeRemoved => "response-media-type-removed",
            ChangeKind::ResponseFieldRemoved => "response-field-removed",
            ChangeKind::ResponseFieldOptional => "response-field-optional",
            ChangeKind::ResponseFieldAdded => "response-field-added",
            ChangeKind::ResponseTypeWidened => "response-type-widened",
            ChangeKind::SchemaChanged => "schema-changed",
        }
    }

    /// What this kind of change means for callers.
    pub const fn severity(self) -> ChangeSeverity {
        match self {
            ChangeKind::ServiceRemoved
            | ChangeKind::UseCaseRemoved
            | ChangeKind::TriggerKindRemoved
            | ChangeKind::HttpRouteRemoved
            | ChangeKind::HttpRouteChanged
            | ChangeKind::WebSocketRouteRemoved
            | ChangeKind::ConsumerQueueRemoved
            | ChangeKind::ConsumerQueueChanged
            | ChangeKind::MapperSourceRemoved
            | ChangeKind::MapperTargetRenamed
            | ChangeKind::PublishedQueueRemoved
            | ChangeKind::ConsumedQueueUnpublished
            | ChangeKind::OperationRemoved
            | ChangeKind::ParameterRemoved
            | ChangeKind::ParameterRequired
            | ChangeKind::RequestBodyChanged
            | ChangeKind::RequestMediaTypeRemoved
            | ChangeKind::RequestFieldRequired
            | ChangeKind::RequestFieldRemoved
            | ChangeKind::RequestTypeNarrowed
            | ChangeKind::SuccessStatusRemoved
            | ChangeKind::ResponseMediaTypeRemoved
            | ChangeKind::ResponseFieldRemoved
            | ChangeKind::ResponseFieldOptional
            | ChangeKind::ResponseTypeWidened => ChangeSeverity::Breaking,
            ChangeKind::ServiceAdded
            | ChangeKind::UseCaseAdded
            | ChangeKind::TriggerKindAdded
            | ChangeKind::HttpRouteAdded
            | ChangeKind::WebSocketRouteAdded
            | ChangeKind::ConsumerQueueAdded
            | ChangeKind::PublishedQueueAdded
            | ChangeKind::CriticalityRaised
            | ChangeKind::NameChanged
            | ChangeKind::DescriptionChanged
            | ChangeKind::OperationAdded
            | ChangeKind::ParameterAdded
            | ChangeKind::RequestFieldAdded
            | ChangeKind::ResponseFieldAdded => ChangeSeverity::Compatible,
            ChangeKind::ServiceRenamed
            | ChangeKind::MapperSourceAdded
            | ChangeKind::TriggerMoved
            | ChangeKind::ScheduleChanged
            | ChangeKind::CriticalityLowered
            | ChangeKind::SuccessStatusAdded
            | ChangeKind::ErrorStatusAdded
            | ChangeKind::SchemaChanged => ChangeSeverity::Notice,
        }
    }
}

impl std::fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// One difference between the old and the new metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What changed.
    pub kind: ChangeKind,
    /// The service's name, when comparing several services; `None` for a
    /// comparison of two files.
    pub service: Option<String>,
    /// The use case's keyname; `None` for a service-level change.
    pub use_case: Option<String>,
    /// Where: the trigger, route (`GET /users/{id}`), queue or field the
    /// change is about; empty when the use case says it all.
    pub detail: String,
    /// A sentence for people.
    pub message: String,
}

impl Change {
    /// The severity of the change's kind.
    pub const fn severity(&self) -> ChangeSeverity {
        self.kind.severity()
    }

    /// A change of one service (`service` is `None`).
    pub fn new(
        kind: ChangeKind,
        use_case: Option<&str>,
        detail: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            service: None,
            use_case: use_case.map(str::to_owned),
            detail: detail.into(),
            message: message.into(),
        }
    }

    pub(super) fn sort_key(&self) -> (&Option<String>, &Option<String>, &'static str, &str) {
        (&self.service, &self.use_case, self.kind.id(), &self.detail)
    }
}
