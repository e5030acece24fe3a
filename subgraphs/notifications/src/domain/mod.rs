//! Notification rules, without storage or GraphQL: what kinds of message there are, who may opt
//! out of which, and the templates they are written from.

pub mod kind;
pub mod template;
