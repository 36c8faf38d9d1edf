//! Adds XP to a member and prints the new balance.
//!
//! ```sh
//! GARRISON_URL=http://127.0.0.1:8080 GARRISON_API_KEY=gar_... \
//!     cargo run -p garrison-client --example xp -- 123456789012345678 123456789 50
//! ```
//!
//! The arguments are the Discord server id (the key's server), the Roblox user id and the amount
//! (default 10). The request carries an `Idempotency-Key`, so running it again with the same
//! arguments within 24 hours adds nothing and says `replayed`.
#![allow(clippy::print_stdout)] // an example prints its result

use std::env;

use garrison_client::xp::XpChange;
use garrison_client::{ApiKeySecret, Client, RobloxUserId, ServerId};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = env::var("GARRISON_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".to_owned());
    let key = env::var("GARRISON_API_KEY").map_err(|_| "set GARRISON_API_KEY to an API key (gar_...)")?;
    let key = ApiKeySecret::parse(key.trim()).ok_or("GARRISON_API_KEY is not an API key (gar_ and 64 hex digits)")?;
    let mut args = env::args().skip(1);
    let usage = "usage: xp SERVER_ID ROBLOX_ID [AMOUNT]";
    let server = ServerId::parse("SERVER_ID", &args.next().ok_or(usage)?)?;
    let member = RobloxUserId::parse("ROBLOX_ID", &args.next().ok_or(usage)?)?;
    let amount: i64 = args.next().map_or(Ok(10), |text| text.parse())?;

    let client = Client::builder(url).api_key(key).build()?;
    let change = XpChange::new(server, member, amount).reference("garrison-client example");
    let idempotency_key = format!("example-{server}-{member}-{amount}");
    let added = client.xp().add(&change, Some(&idempotency_key)).await?;
    let balance = client.xp().get(server, member).await?;
    println!("added {amount} XP{}: balance {}", if added.replayed { " (replayed)" } else { "" }, balance.xp);
    Ok(())
}
