//! The company data use cases.

use bisslog_core::{Completion, Ctx, Event, Publisher, UseCase};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::{RegistryError, Violation};
use crate::events::{COMPANY_DATA_INSERTED, COMPANY_DATA_INSERTED_TYPE, CompanyDataInserted};
use crate::model::new_uid;
use crate::ports::{DataStore, SchemaStore, filter_text};
use crate::validation::check_data;

/// The field a stored record carries its uid in.
pub const UID_FIELD: &str = "uid";

/// `insert_company_data`: validates a record against its schema's current
/// definition, stores it, and announces it on
/// [`COMPANY_DATA_INSERTED`]. With the SQL store and its outbox, the record
/// and the announcement commit together.
pub struct InsertCompanyData<S, D, P> {
    /// The schema store.
    pub schemas: S,
    /// The data store.
    pub data: D,
    /// Where insertions are announced.
    pub events: P,
}

/// The input of [`InsertCompanyData`].
#[derive(Debug, Deserialize, JsonSchema)]
pub struct InsertInput {
    /// The schema.
    pub schema_keyname: String,
    /// The record.
    pub data: Value,
}

impl<S: SchemaStore, D: DataStore, P: Publisher> UseCase for InsertCompanyData<S, D, P> {
    type Input = InsertInput;
    type Output = Value;
    type Error = RegistryError;

    async fn run(&self, ctx: &Ctx, input: InsertInput) -> Result<Value, RegistryError> {
        let schema = self
            .schemas
            .get_schema(&input.schema_keyname)
            .await?
            .ok_or_else(|| RegistryError::SchemaNotFound(input.schema_keyname.clone()))?;
        let mut record = as_object(input.data, &input.schema_keyname)?;
        record.remove(UID_FIELD);
        let record = Value::Object(record);
        let violations = check_data(&schema.current_schema_definition, &record);
        if !violations.is_empty() {
            return Err(RegistryError::InvalidData(input.schema_keyname, violations));
        }
        let uid = new_uid();
        self.data
            .insert(&input.schema_keyname, &uid, &record)
            .await?;
        let announcement = CompanyDataInserted {
            schema_keyname: input.schema_keyname.clone(),
            uid: uid.clone(),
            data: record,
        };
        let event = Event::json(&announcement)?
            .with_key(&input.schema_keyname)
            .with_type(COMPANY_DATA_INSERTED_TYPE);
        self.events.publish(COMPANY_DATA_INSERTED, event).await?;
        ctx.checkpoint(
            "data-inserted",
            format!("record {uid} stored in `{}`", input.schema_keyname),
        );
        Ok(json!({ "inserted": uid }))
    }

    const COMPLETION: Completion = Completion::Created;
}

/// `update_company_data`: merges fields into a record (as the original
/// service does) and validates the result.
pub struct UpdateCompanyData<S, D> {
    /// The schema store.
    pub schemas: S,
    /// The data store.
    pub data: D,
}

/// The input of [`UpdateCompanyData`].
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateInput {
    /// The schema.
    pub schema_keyname: String,
    /// The record's uid.
    pub uid_data: String,
    /// The fields to change.
    pub data: Value,
}

impl<S: SchemaStore, D: DataStore> UseCase for UpdateCompanyData<S, D> {
    type Input = UpdateInput;
    type Output = Value;
    type Error = RegistryError;

    async fn run(&self, _: &Ctx, input: UpdateInput) -> Result<Value, RegistryError> {
        let schema = self
            .schemas
            .get_schema(&input.schema_keyname)
            .await?
            .ok_or_else(|| RegistryError::SchemaNotFound(input.schema_keyname.clone()))?;
        let not_found = || RegistryError::RecordNotFound {
            schema: input.schema_keyname.clone(),
            uid: input.uid_data.clone(),
        };
        let current = self
            .data
            .get(&input.schema_keyname, &input.uid_data)
            .await?
            .ok_or_else(not_found)?;
        let mut merged = as_object(current, &input.schema_keyname)?;
        for (field, value) in as_object(input.data.clone(), &input.schema_keyname)? {
            if field != UID_FIELD {
                merged.insert(field, value);
            }
        }
        let merged = Value::Object(merged);
        let violations = check_data(&schema.current_schema_definition, &merged);
        if !violations.is_empty() {
            return Err(RegistryError::InvalidData(input.schema_keyname, violations));
        }
        if !self
            .data
            .replace(&input.schema_keyname, &input.uid_data, &merged)
            .await?
        {
            return Err(not_found());
        }
        Ok(json!({ "updated": input.uid_data }))
    }
}

/// `get_company_data`: a schema's records, filtered by top-level fields.
pub struct GetCompanyData<S, D> {
    /// The schema store.
    pub schemas: S,
    /// The data store.
    pub data: D,
}

/// The input of [`GetCompanyData`]: filters come as `params` (the mapped
/// route) or as loose query parameters (the route without a mapper).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetInput {
    /// The schema.
    pub schema_keyname: String,
    /// Filters from the query string.
    #[serde(default)]
    pub params: Map<String, Value>,
    /// Filters given as top-level fields.
    #[serde(flatten)]
    pub loose: Map<String, Value>,
}

impl<S: SchemaStore, D: DataStore> UseCase for GetCompanyData<S, D> {
    type Input = GetInput;
    type Output = Value;
    type Error = RegistryError;

    async fn run(&self, _: &Ctx, input: GetInput) -> Result<Value, RegistryError> {
        if self
            .schemas
            .get_schema(&input.schema_keyname)
            .await?
            .is_none()
        {
            return Err(RegistryError::SchemaNotFound(input.schema_keyname));
        }
        let filters: Vec<(String, String)> = input
            .params
            .iter()
            .chain(input.loose.iter())
            .filter_map(|(field, value)| Some((field.clone(), filter_text(value)?)))
            .collect();
        // Records are returned with their uid, as the original service does.
        let records: Vec<Value> = self
            .data
            .find(&input.schema_keyname, &filters)
            .await?
            .into_iter()
            .map(|(uid, mut record)| {
                if let Value::Object(fields) = &mut record {
                    fields.insert(UID_FIELD.to_owned(), Value::String(uid));
                }
                record
            })
            .collect();
        Ok(json!({ "data": records }))
    }
}

/// `delete_company_data`: deletes a record.
pub struct DeleteCompanyData<D> {
    /// The data store.
    pub data: D,
}

/// The input of [`DeleteCompanyData`].
#[derive(Debug, Deserialize, JsonSchema)]
pub struct DeleteInput {
    /// The schema.
    pub schema_keyname: String,
    /// The record.
    pub uid_data: String,
}

impl<D: DataStore> UseCase for DeleteCompanyData<D> {
    type Input = DeleteInput;
    type Output = Value;
    type Error = RegistryError;

    async fn run(&self, _: &Ctx, input: DeleteInput) -> Result<Value, RegistryError> {
        if !self
            .data
            .delete(&input.schema_keyname, &input.uid_data)
            .await?
        {
            return Err(RegistryError::RecordNotFound {
                schema: input.schema_keyname,
                uid: input.uid_data,
            });
        }
        Ok(json!({ "deleted": input.uid_data }))
    }
}

/// The record as an object, or a violation saying it must be one.
fn as_object(value: Value, keyname: &str) -> Result<Map<String, Value>, RegistryError> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(RegistryError::InvalidData(
            keyname.to_owned(),
            vec![Violation::new("/", "a record must be a JSON object")],
        )),
    }
}
