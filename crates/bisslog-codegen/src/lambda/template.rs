//! The SAM template: one `AWS::Serverless::Function` for the whole
//! service, its events and the resources they need, written as YAML in a
//! fixed order (parameters, the function, resources in metadata order,
//! outputs).

use bisslog_schema::{ServiceMetadata, TriggerKind};
use serde_json::{Map, Value, json};

use super::{HttpApi, LambdaOptions, Problem, events, queues, timeouts, websocket};
use crate::ident::LogicalIds;

/// The function's logical id.
pub(super) const FUNCTION: &str = "ServiceFunction";

/// Ids AWS SAM creates itself, or the template uses for fixed things.
const RESERVED: &[&str] = &[
    FUNCTION,
    "ServiceFunctionRole",
    "ServerlessHttpApi",
    "ServerlessRestApi",
    "MemorySize",
    "Timeout",
    "LogLevel",
    "QueueVisibilityTimeout",
    websocket::API,
    websocket::DEPLOYMENT,
    websocket::STAGE,
    websocket::PERMISSION,
];

/// The longest template `Description` CloudFormation accepts, in bytes.
const MAX_DESCRIPTION: usize = 1024;

/// The template under construction.
pub(super) struct Builder<'a> {
    pub(super) options: &'a LambdaOptions,
    pub(super) ids: LogicalIds,
    pub(super) resources: Map<String, Value>,
    pub(super) events: Map<String, Value>,
    pub(super) outputs: Map<String, Value>,
    pub(super) policies: Vec<Value>,
    pub(super) problems: Vec<Problem>,
    pub(super) queues: queues::Queues,
}

pub(super) fn render(
    service: &ServiceMetadata,
    options: &LambdaOptions,
) -> Result<String, Vec<Problem>> {
    let mut b = Builder {
        options,
        ids: LogicalIds::with_reserved(RESERVED),
        resources: Map::new(),
        events: Map::new(),
        outputs: Map::new(),
        policies: Vec::new(),
        problems: Vec::new(),
        queues: queues::Queues::default(),
    };
    let mut routes = Vec::new();
    for use_case in service.use_cases.values() {
        for (index, trigger) in use_case.triggers.iter().enumerate() {
            match &trigger.kind {
                TriggerKind::Http(http) => events::http(&mut b, use_case, index, http),
                TriggerKind::Schedule(schedule) => {
                    events::schedule(&mut b, use_case, index, schedule);
                }
                TriggerKind::Consumer(consumer) => {
                    queues::consumer(&mut b, use_case, index, consumer);
                }
                TriggerKind::WebSocket(ws) => routes.push(ws.route_key.as_str()),
            }
        }
    }
    websocket::add(&mut b, &routes);
    queues::check_flags(&mut b);
    b.problems.extend(timeouts::check(service));
    if !b.problems.is_empty() {
        return Err(b.problems);
    }
    Ok(bisslog_schema::to_yaml(&assemble(service, b)))
}

fn assemble(service: &ServiceMetadata, b: Builder<'_>) -> Value {
    let http_events = b
        .events
        .values()
        .any(|event| matches!(event["Type"].as_str(), Some("HttpApi" | "Api")));
    let mut outputs = Map::new();
    if http_events {
        let (id, url) = match b.options.http_api {
            HttpApi::Http => (
                "HttpApiUrl",
                "https://${ServerlessHttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/",
            ),
            HttpApi::Rest => (
                "RestApiUrl",
                "https://${ServerlessRestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/Prod/",
            ),
        };
        outputs.insert(
            id.to_owned(),
            json!({"Description": "The base URL of the HTTP triggers", "Value": sub(url)}),
        );
    }
    outputs.extend(b.outputs);
    outputs.insert(
        "FunctionArn".to_owned(),
        json!({"Description": "The service's function", "Value": get_att(FUNCTION, "Arn")}),
    );

    let mut properties = Map::new();
    properties.insert(
        "Description".to_owned(),
        json!(truncate(&format!("bisslog service {}", service.name), 256)),
    );
    properties.insert("CodeUri".to_owned(), json!("bootstrap"));
    properties.insert("Handler".to_owned(), json!("bootstrap"));
    properties.insert("Runtime".to_owned(), json!("provided.al2023"));
    properties.insert(
        "Architectures".to_owned(),
        json!([b.options.architecture.sam_name()]),
    );
    properties.insert("MemorySize".to_owned(), reference("MemorySize"));
    properties.insert("Timeout".to_owned(), reference("Timeout"));
    let mut variables = Map::new();
    variables.insert("RUST_LOG".to_owned(), reference("LogLevel"));
    if let Some(queues) = b.queues.environment() {
        variables.insert(queues::ENVIRONMENT.to_owned(), queues);
    }
    properties.insert(
        "Environment".to_owned(),
        json!({"Variables": Value::Object(variables)}),
    );
    if !b.policies.is_empty() {
        properties.insert(
            "Policies".to_owned(),
            json!([{"Version": "2012-10-17", "Statement": b.policies}]),
        );
    }
    if !b.events.is_empty() {
        properties.insert("Events".to_owned(), Value::Object(b.events));
    }
    let mut resources = Map::new();
    resources.insert(
        FUNCTION.to_owned(),
        json!({
            "Type": "AWS::Serverless::Function",
            "Metadata": {"BuildMethod": "rust-cargolambda"},
            "Properties": Value::Object(properties),
        }),
    );
    resources.extend(b.resources);

    let description = match &service.description {
        Some(text) => format!("{}: {}", service.name, text),
        None => service.name.clone(),
    };
    let mut template = Map::new();
    template.insert("AWSTemplateFormatVersion".to_owned(), json!("2010-09-09"));
    template.insert("Transform".to_owned(), json!("AWS::Serverless-2016-10-31"));
    template.insert(
        "Description".to_owned(),
        json!(truncate(&description, MAX_DESCRIPTION)),
    );
    let defaults = timeouts::Defaults::of(service);
    template.insert(
        "Parameters".to_owned(),
        parameters(defaults, b.queues.has_sqs()),
    );
    template.insert("Resources".to_owned(), Value::Object(resources));
    template.insert("Outputs".to_owned(), Value::Object(outputs));
    Value::Object(template)
}

/// Settings a deployment changes without editing the generated template;
/// the timeouts' defaults leave room for the triggers' own.
fn parameters(defaults: timeouts::Defaults, has_sqs: bool) -> Value {
    let mut parameters = json!({
        "MemorySize": {
            "Type": "Number",
            "Default": 256,
            "MinValue": 128,
            "MaxValue": 10240,
            "Description": "The function's memory in MB (CPU grows with it)",
        },
        "Timeout": {
            "Type": "Number",
            "Default": defaults.function_s,
            "MinValue": 1,
            "MaxValue": timeouts::MAX_FUNCTION_TIMEOUT_S,
            "Description": "The most seconds one invocation may run",
        },
        "LogLevel": {
            "Type": "String",
            "Default": "info",
            "Description": "The RUST_LOG filter of the function's logs",
        },
    });
    if has_sqs && let Some(map) = parameters.as_object_mut() {
        map.insert(
            "QueueVisibilityTimeout".to_owned(),
            json!({
                "Type": "Number",
                "Default": defaults.visibility_s,
                "MinValue": 0,
                "MaxValue": 43200,
                "Description": "Seconds a received message stays hidden before SQS delivers it \
                                again; at least Timeout (AWS advises six times it)",
            }),
        );
    }
    parameters
}

/// `text` cut to at most `max` bytes on a character boundary.
pub(super) fn truncate(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// `{"Ref": id}`.
pub(super) fn reference(id: &str) -> Value {
    json!({ "Ref": id })
}

/// `{"Fn::GetAtt": [id, attribute]}`.
pub(super) fn get_att(id: &str, attribute: &str) -> Value {
    json!({ "Fn::GetAtt": [id, attribute] })
}

/// `{"Fn::Sub": text}`.
pub(super) fn sub(text: &str) -> Value {
    json!({ "Fn::Sub": text })
}

/// `text` with `${` written so `Fn::Sub` keeps it literally.
pub(super) fn sub_literal(text: &str) -> String {
    text.replace("${", "${!")
}
