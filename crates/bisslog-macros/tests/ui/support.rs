// What the cases register: a use case, an adapter and the metadata. Each
// case uses part of it.
#![allow(dead_code)]

use bisslog::{Adapter, Ctx, Error, NoInput, UseCase};

pub struct Greet;

impl UseCase for Greet {
    type Input = NoInput;
    type Output = String;
    type Error = Error;

    async fn run(&self, _: &Ctx, _: NoInput) -> Result<String, Error> {
        Ok("hello".to_owned())
    }
}

#[derive(Clone)]
pub struct Store;

impl Adapter for Store {}

pub fn metadata() -> bisslog::schema::ServiceMetadata {
    let text = include_str!("metadata/service.yml");
    match bisslog::schema::load_str("service.yml", text) {
        Ok(metadata) => metadata,
        Err(error) => panic!("{error}"),
    }
}
