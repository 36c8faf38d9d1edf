//! Black-box tests: the real `garrison` binary, started per test on `127.0.0.1:0` with a temporary
//! data directory and a fresh database (SQLite always; PostgreSQL when `GARRISON_TEST_POSTGRES_URL`
//! is set), spoken to over HTTP only.

mod harness;

mod auth;
mod backups;
mod browser;
mod cards;
mod catalogue;
mod client;
mod commands;
mod concurrency;
mod discord;
mod discord_abuse;
mod discord_messages;
mod discord_modmail;
mod discord_roles;
mod edge;
mod ep_loa;
mod gateway;
mod input;
mod modlogs;
mod operations;
mod roblox;
mod simulated;
mod streams;
mod transcripts;
mod utilities;
mod verify;
mod webhooks;
mod xp;
