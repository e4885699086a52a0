//! One module per command.

pub mod ack;
pub mod apply;
pub mod coverage;
pub mod drift;
pub mod hub;
pub mod metadata;
pub mod modules;
pub mod schema;
pub mod serve;
pub mod validate;
pub mod workplan;
pub mod workplan_show;
