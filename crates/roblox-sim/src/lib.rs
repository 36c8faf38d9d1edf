#![doc = include_str!("../README.md")]

mod demo;
mod error;
mod oauth;
mod paging;
mod ratelimit;
mod routes;
mod server;
pub mod spec;
mod thumbnail;
mod time;
mod world;

pub use demo::Demo;
pub use routes::ROUTES;
pub use server::{STATS_PATH, Simulator};
pub use time::Timestamp;
pub use world::{ApiKey, GUEST_RANK, GroupView, KeyOwner, OWNER_RANK, PERMISSIONS, RoleView, UserView, World};
