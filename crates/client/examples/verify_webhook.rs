//! Verifies one webhook delivery and prints its event.
//!
//! ```sh
//! GARRISON_WEBHOOK_SECRET=whsec_... \
//!     cargo run -p garrison-client --example verify_webhook -- MSG_ID TIMESTAMP SIGNATURE [BODY_FILE]
//! ```
//!
//! `MSG_ID`, `TIMESTAMP` and `SIGNATURE` are the delivery's `webhook-id`, `webhook-timestamp` and
//! `webhook-signature` headers; the body, exactly as received, is read from `BODY_FILE`, or from
//! standard input without one. A timestamp more than five minutes from now is refused.
#![allow(clippy::print_stdout)] // an example prints its result

use std::io::Read;
use std::{env, fs, io};

use garrison_client::{DeliveryHeaders, verify_webhook};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = env::var("GARRISON_WEBHOOK_SECRET").map_err(|_| "set GARRISON_WEBHOOK_SECRET to the whsec_ secret")?;
    let args: Vec<String> = env::args().skip(1).collect();
    let [id, timestamp, signature, rest @ ..] = args.as_slice() else {
        return Err("usage: verify_webhook MSG_ID TIMESTAMP SIGNATURE [BODY_FILE]".into());
    };
    let body = match rest.first() {
        Some(path) => fs::read(path)?,
        None => {
            let mut body = Vec::new();
            io::stdin().read_to_end(&mut body)?;
            body
        }
    };
    let event = verify_webhook(&secret, DeliveryHeaders { id, timestamp, signature }, &body)?;
    println!("{} at {}: {}", event.kind, event.timestamp, event.data);
    Ok(())
}
