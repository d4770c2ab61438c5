//! The integration tests' shared toolkit: the cast of people and their chats, and the
//! `butler` binary started as a process (its configuration, environment and log).
//! Included by each test target (`mod common;`, or with `#[path = "../common/mod.rs"]`
//! from a directory target); a target uses only some of it.

#![allow(dead_code)]

pub mod cast;
pub mod process;

// Each target uses some of it: what one leaves unused is no warning.
#[allow(unused_imports)]
pub use cast::*;
#[allow(unused_imports)]
pub use process::*;
