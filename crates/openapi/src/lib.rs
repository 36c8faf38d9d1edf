#![doc = include_str!("../README.md")]

mod options;
mod spec;
mod validate;

pub use options::{Check, Erratum, Options, Target, looks_like_date_time};
pub use spec::{Operation, RouteMatch, Spec};
