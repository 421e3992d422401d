//! `greet` on in-memory adapters.

use bisslog::{Ctx, Trigger, UseCase};
use greeter::adapters::memory::greetings::MemoryGreetings;
use greeter_domain::use_cases::greet::{Greet, GreetInput};

fn ana() -> GreetInput {
    GreetInput {
        name: "Ana".to_owned(),
    }
}

#[tokio::test]
async fn greet_greets_by_name_and_counts() {
    let use_case = Greet {
        greetings: MemoryGreetings::default(),
    };
    let ctx = Ctx::new("greet", Trigger::Direct);
    let first = use_case.run(&ctx, ana()).await;
    let second = use_case.run(&ctx, ana()).await;
    let (first, second) = match (first, second) {
        (Ok(first), Ok(second)) => (first, second),
        (first, second) => panic!("greet failed: {:?} {:?}", first.err(), second.err()),
    };
    assert_eq!(first.message, "Hello, Ana!");
    assert_eq!((first.count, second.count), (1, 2));
}
