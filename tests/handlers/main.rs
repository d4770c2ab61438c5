//! Handler tests: the real handler tree driven by teloxide_tests' MockBot, on a real
//! temporary SQLite file. One module per part of the ticket's life.

#[path = "../common/mod.rs"]
mod common;
mod harness;

mod bounds;
mod cancel;
mod console;
mod dispatch;
mod figures;
mod groups;
mod kinds;
mod life;
mod membership;
mod newcomer;
mod owners_read;
mod rating;
mod refusals;
mod reporting;
mod retention;
mod roles;
mod routes;
mod schedule;
mod staff;
mod stall;
mod stats;
mod store;
mod story;
