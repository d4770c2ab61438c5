//! End-to-end: the real `butler` binary, started as a service would start it, talking
//! HTTP to the Bot API emulator (`butler_emulator`, in `crates/emulator`), with people
//! played by the emulator's driver. Assertions are on the chats as a person sees them.
//!
//! `BUTLER_E2E_LOG=debug cargo test --test e2e` logs more; a failing step prints the
//! chats, the last Bot API calls and the tail of Butler's log.

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod crashes;
mod database;
mod delivery;
mod dispatch;
mod floods;
mod groups;
mod harness;
mod hurry;
mod kinds;
mod leader;
mod membership;
mod outages;
mod routes;
mod ticket_loop;
mod webhook;
