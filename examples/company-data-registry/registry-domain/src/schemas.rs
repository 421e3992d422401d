//! The schema use cases.

use bisslog_core::{Completion, Ctx, ErrorKind, NoInput, UseCase, UseCaseError as _};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{RegistryError, Violation};
use crate::model::{
    Schema, SchemaInfo, SchemaVersion, check_keyname, check_texts, new_uid, now_ms,
};
use crate::ports::SchemaStore;
use crate::validation::check_definition;

/// `create_schema`: registers a schema and its first definition version.
pub struct CreateSchema<S> {
    /// The schema store.
    pub schemas: S,
}

/// The input of [`CreateSchema`].
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateSchemaInput {
    /// The schema to create.
    pub schema_info: SchemaInfo,
}

/// `{"schema": {...}}`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SchemaOutput {
    /// The schema.
    pub schema: Schema,
}

impl<S: SchemaStore> UseCase for CreateSchema<S> {
    type Input = CreateSchemaInput;
    type Output = SchemaOutput;
    type Error = RegistryError;

    async fn run(
        &self,
        ctx: &Ctx,
        input: CreateSchemaInput,
    ) -> Result<SchemaOutput, RegistryError> {
        let info = input.schema_info;
        let keyname = info.schema_keyname.trim().to_lowercase();
        let mut violations: Vec<Violation> = check_keyname(&keyname).into_iter().collect();
        violations.extend(check_texts(&info.schema_name, &info.schema_description));
        violations.extend(check_definition(
            &info.current_schema_definition,
            "current_schema_definition",
        ));
        if !violations.is_empty() {
            return Err(RegistryError::InvalidSchema(violations));
        }
        if self.schemas.get_schema(&keyname).await?.is_some() {
            return Err(RegistryError::SchemaExists(keyname));
        }
        let version = SchemaVersion {
            uid: new_uid(),
            schema_keyname: keyname.clone(),
            schema_definition: info.current_schema_definition.clone(),
            created_at_ms: now_ms(),
        };
        let schema = Schema {
            schema_keyname: keyname.clone(),
            schema_name: info.schema_name,
            schema_description: info.schema_description,
            current_schema_definition: info.current_schema_definition,
            current_version: version.uid.clone(),
        };
        self.schemas
            .create_schema(&schema, &version)
            .await
            .map_err(|error| {
                // Another request created it between our check and our write.
                if error.kind() == ErrorKind::Integrity {
                    RegistryError::SchemaExists(keyname.clone())
                } else {
                    error.into()
                }
            })?;
        ctx.checkpoint(
            "schema-saved",
            format!("schema `{keyname}` created with version {}", version.uid),
        );
        Ok(SchemaOutput { schema })
    }

    const COMPLETION: Completion = Completion::Created;
}

/// `get_all_schemas`: every schema.
pub struct GetAllSchemas<S> {
    /// The schema store.
    pub schemas: S,
}

impl<S: SchemaStore> UseCase for GetAllSchemas<S> {
    type Input = NoInput;
    type Output = Vec<Schema>;
    type Error = RegistryError;

    async fn run(&self, _: &Ctx, _: NoInput) -> Result<Vec<Schema>, RegistryError> {
        Ok(self.schemas.list_schemas().await?)
    }
}

/// `update_schema_metadata`: renames and redescribes a schema.
pub struct UpdateSchemaMetadata<S> {
    /// The schema store.
    pub schemas: S,
}

/// The input of [`UpdateSchemaMetadata`].
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateMetadataInput {
    /// The schema.
    pub schema_keyname: String,
    /// The new name and description.
    pub schema_new_info: NewInfo,
}

/// A schema's new name and description.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct NewInfo {
    /// The new name.
    pub schema_name: String,
    /// The new description.
    pub schema_description: String,
}

impl<S: SchemaStore> UseCase for UpdateSchemaMetadata<S> {
    type Input = UpdateMetadataInput;
    type Output = Value;
    type Error = RegistryError;

    async fn run(&self, _: &Ctx, input: UpdateMetadataInput) -> Result<Value, RegistryError> {
        let info = input.schema_new_info;
        let violations = check_texts(&info.schema_name, &info.schema_description);
        if !violations.is_empty() {
            return Err(RegistryError::InvalidSchema(violations));
        }
        let keyname = input.schema_keyname;
        if !self
            .schemas
            .update_schema_metadata(&keyname, &info.schema_name, &info.schema_description)
            .await?
        {
            return Err(RegistryError::SchemaNotFound(keyname));
        }
        Ok(json!({ "updated": keyname }))
    }
}

/// `update_schema_definition`: adds a definition version and makes it current.
pub struct UpdateSchemaDefinition<S> {
    /// The schema store.
    pub schemas: S,
}

/// The input of [`UpdateSchemaDefinition`].
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateDefinitionInput {
    /// The schema.
    pub schema_keyname: String,
    /// The new definition.
    pub schema_definition: Value,
}

impl<S: SchemaStore> UseCase for UpdateSchemaDefinition<S> {
    type Input = UpdateDefinitionInput;
    type Output = Value;
    type Error = RegistryError;

    async fn run(&self, ctx: &Ctx, input: UpdateDefinitionInput) -> Result<Value, RegistryError> {
        let violations = check_definition(&input.schema_definition, "schema_definition");
        if !violations.is_empty() {
            return Err(RegistryError::InvalidSchema(violations));
        }
        let version = SchemaVersion {
            uid: new_uid(),
            schema_keyname: input.schema_keyname.clone(),
            schema_definition: input.schema_definition,
            created_at_ms: now_ms(),
        };
        if !self.schemas.add_current_version(&version).await? {
            return Err(RegistryError::SchemaNotFound(input.schema_keyname));
        }
        ctx.checkpoint(
            "schema-version-created",
            format!("version {} is current", version.uid),
        );
        Ok(json!({ "updated": input.schema_keyname, "schema_version": version.uid }))
    }
}

/// `change_current_schema_def_version`: makes an older version current again.
pub struct ChangeCurrentSchemaVersion<S> {
    /// The schema store.
    pub schemas: S,
}

/// The input of [`ChangeCurrentSchemaVersion`].
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ChangeVersionInput {
    /// The schema.
    pub schema_keyname: String,
    /// The version to make current.
    pub uid_schema_version: String,
}

impl<S: SchemaStore> UseCase for ChangeCurrentSchemaVersion<S> {
    type Input = ChangeVersionInput;
    type Output = Value;
    type Error = RegistryError;

    async fn run(&self, _: &Ctx, input: ChangeVersionInput) -> Result<Value, RegistryError> {
        let version = self
            .schemas
            .get_version(&input.uid_schema_version)
            .await?
            .filter(|v| v.schema_keyname == input.schema_keyname)
            .ok_or_else(|| RegistryError::VersionNotFound(input.uid_schema_version.clone()))?;
        if !self.schemas.set_current_version(&version).await? {
            return Err(RegistryError::SchemaNotFound(input.schema_keyname));
        }
        Ok(json!({ "updated_schema": input.schema_keyname, "schema_version": version.uid }))
    }
}

/// `delete_schema`: deletes a schema with its versions and data.
pub struct DeleteSchema<S> {
    /// The schema store.
    pub schemas: S,
}

/// The input of [`DeleteSchema`].
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KeynameInput {
    /// The schema.
    pub schema_keyname: String,
}

impl<S: SchemaStore> UseCase for DeleteSchema<S> {
    type Input = KeynameInput;
    type Output = Value;
    type Error = RegistryError;

    async fn run(&self, ctx: &Ctx, input: KeynameInput) -> Result<Value, RegistryError> {
        if !self.schemas.delete_schema(&input.schema_keyname).await? {
            return Err(RegistryError::SchemaNotFound(input.schema_keyname));
        }
        ctx.checkpoint(
            "schema-deleted",
            format!("schema `{}` deleted", input.schema_keyname),
        );
        Ok(json!({ "deleted": input.schema_keyname }))
    }
}

/// `delete_schema_version`: deletes a version that is not current.
pub struct DeleteSchemaVersion<S> {
    /// The schema store.
    pub schemas: S,
}

/// The input of [`DeleteSchemaVersion`].
#[derive(Debug, Deserialize, JsonSchema)]
pub struct VersionInput {
    /// The version.
    pub uid_schema_def_version: String,
}

impl<S: SchemaStore> UseCase for DeleteSchemaVersion<S> {
    type Input = VersionInput;
    type Output = Value;
    type Error = RegistryError;

    async fn run(&self, _: &Ctx, input: VersionInput) -> Result<Value, RegistryError> {
        let uid = input.uid_schema_def_version;
        let version = self
            .schemas
            .get_version(&uid)
            .await?
            .ok_or_else(|| RegistryError::VersionNotFound(uid.clone()))?;
        let schema = self.schemas.get_schema(&version.schema_keyname).await?;
        if schema.is_some_and(|s| s.current_version == uid) {
            return Err(RegistryError::VersionInUse(uid, version.schema_keyname));
        }
        if !self.schemas.delete_version(&uid).await? {
            return Err(RegistryError::VersionNotFound(uid));
        }
        Ok(json!({ "deleted": uid }))
    }
}

/// `delete_all_inactive_schema_version`: the weekly clean-up of versions
/// that are not current and older than `days` (60 by default).
pub struct DeleteInactiveSchemaVersions<S> {
    /// The schema store.
    pub schemas: S,
}

/// The input of [`DeleteInactiveSchemaVersions`]: the schedule's static
/// event, `{"days": 30}`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CleanupInput {
    /// How old a non-current version must be to go.
    #[serde(default = "default_days")]
    pub days: u32,
}

fn default_days() -> u32 {
    60
}

impl<S: SchemaStore> UseCase for DeleteInactiveSchemaVersions<S> {
    type Input = CleanupInput;
    type Output = Value;
    type Error = RegistryError;

    async fn run(&self, ctx: &Ctx, input: CleanupInput) -> Result<Value, RegistryError> {
        let before = now_ms() - i64::from(input.days) * 86_400_000;
        let mut result = Map::new();
        for schema in self.schemas.list_schemas().await? {
            let deleted = self
                .schemas
                .delete_versions_before(&schema.schema_keyname, &schema.current_version, before)
                .await?;
            result.insert(schema.schema_keyname, json!(deleted));
        }
        ctx.checkpoint(
            "inactive-versions-deleted",
            format!("clean-up of versions older than {} days done", input.days),
        );
        Ok(json!({ "result": result }))
    }
}
