//! WebSocket triggers: one `AWS::ApiGatewayV2::Api` (WEBSOCKET) for the
//! service, a route and a Lambda proxy integration per route key, a
//! deployment and stage, and the permission for API Gateway to invoke the
//! function. The route selection expression is `$request.body.action`:
//! a message `{"action": "sendMessage", ...}` goes to route `sendMessage`.

use serde_json::json;

use super::template::{Builder, FUNCTION, reference, sub};

pub(super) const API: &str = "WebSocketApi";
pub(super) const DEPLOYMENT: &str = "WebSocketDeployment";
pub(super) const STAGE: &str = "WebSocketStage";
pub(super) const PERMISSION: &str = "WebSocketPermission";

/// The stage the API is deployed to (the last part of its URL).
const STAGE_NAME: &str = "live";

/// Adds the API for `route_keys` (in metadata order), if there are any.
pub(super) fn add(b: &mut Builder<'_>, route_keys: &[&str]) {
    if route_keys.is_empty() {
        return;
    }
    b.resources.insert(
        API.to_owned(),
        json!({
            "Type": "AWS::ApiGatewayV2::Api",
            "Properties": {
                "Name": sub("${AWS::StackName}-websocket"),
                "ProtocolType": "WEBSOCKET",
                "RouteSelectionExpression": "$request.body.action",
            },
        }),
    );
    let mut routes = Vec::new();
    for route_key in route_keys {
        let name = format!("web socket {route_key}");
        let integration = b.ids.claim(&name, "Integration");
        let route = b.ids.claim(&name, "Route");
        b.resources.insert(
            integration.clone(),
            json!({
                "Type": "AWS::ApiGatewayV2::Integration",
                "Properties": {
                    "ApiId": reference(API),
                    "IntegrationType": "AWS_PROXY",
                    "IntegrationUri": sub(&format!(
                        "arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{{FUNCTION}.Arn}}/invocations"
                    )),
                },
            }),
        );
        b.resources.insert(
            route.clone(),
            json!({
                "Type": "AWS::ApiGatewayV2::Route",
                "Properties": {
                    "ApiId": reference(API),
                    "RouteKey": route_key,
                    "AuthorizationType": "NONE",
                    "Target": sub(&format!("integrations/${{{integration}}}")),
                },
            }),
        );
        routes.push(route);
    }
    b.resources.insert(
        DEPLOYMENT.to_owned(),
        json!({
            "Type": "AWS::ApiGatewayV2::Deployment",
            // A deployment made before its routes exist deploys nothing.
            "DependsOn": routes,
            "Properties": { "ApiId": reference(API) },
        }),
    );
    b.resources.insert(
        STAGE.to_owned(),
        json!({
            "Type": "AWS::ApiGatewayV2::Stage",
            "Properties": {
                "ApiId": reference(API),
                "DeploymentId": reference(DEPLOYMENT),
                "StageName": STAGE_NAME,
            },
        }),
    );
    b.resources.insert(
        PERMISSION.to_owned(),
        json!({
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": reference(FUNCTION),
                "Principal": "apigateway.amazonaws.com",
                "SourceArn": sub(&format!(
                    "arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{API}}}/*"
                )),
            },
        }),
    );
    // The runtime answers on a connection through the management API.
    b.policies.push(json!({
        "Effect": "Allow",
        "Action": "execute-api:ManageConnections",
        "Resource": sub(&format!(
            "arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{API}}}/*"
        )),
    }));
    b.outputs.insert(
        "WebSocketUrl".to_owned(),
        json!({
            "Description": "The URL WebSocket clients connect to",
            "Value": sub(&format!(
                "wss://${{{API}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{STAGE_NAME}"
            )),
        }),
    );
}
