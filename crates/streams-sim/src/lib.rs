//! `garrison-streams-sim`: a stateful stand-in for the live-streaming platforms Garrison watches, for
//! tests and for trying Garrison without them. One HTTP server on one address serves all three under
//! disjoint paths:
//!
//! - the YouTube Data API v3 (<https://developers.google.com/youtube/v3/docs>):
//!   `GET /youtube/v3/channels`, `/playlistItems`, `/videos`, `/search`, with API keys, daily quotas
//!   charged as YouTube charges them, and Google's error bodies ([`Simulator::youtube_url`]);
//! - Twitch: the client-credentials grant `POST /oauth2/token`
//!   (<https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/#client-credentials-grant-flow>,
//!   [`Simulator::twitch_auth_url`]) and Helix's `GET /helix/streams`
//!   (<https://dev.twitch.tv/docs/api/reference/#get-streams>, [`Simulator::twitch_api_url`]) with
//!   expiring tokens and per-client rate limits;
//! - TikTok's public live page `GET /@{user}/live` (`https://www.tiktok.com/@USER/live`, its
//!   `SIGI_STATE` script; [`Simulator::tiktok_url`]).
//!
//! Tests change the platforms through [`Simulator`]'s methods (channels and broadcasts, Twitch apps
//! and streams, TikTok pages, outages and latency) and check the traffic with [`Simulator::calls`],
//! [`Simulator::calls_to`] and [`Simulator::violations`]: API keys in URLs, requests without a
//! `User-Agent`, unknown routes. `GET /_sim/calls` answers the request count of every route and
//! `POST /_sim/...` controls change the state over HTTP (see `main.rs`).
//!
//! ```no_run
//! use garrison_streams_sim::{Platform, Simulator, TikTokPage};
//!
//! let sim = Simulator::start();
//! sim.youtube_add_key("key", 10_000);
//! sim.youtube_add_channel("@GarrisonLive", "Garrison Live");
//! let video = sim.youtube_go_live("GarrisonLive", "Drill night", 42);
//! sim.twitch_add_client("client", "secret");
//! sim.twitch_go_live("garrison_live", "Drill night", "Roblox", 42);
//! sim.tiktok_set("garrison.live", TikTokPage::Live { title: "Drill night".into(), viewers: 42 });
//! // Point the clients at sim.youtube_url(), sim.twitch_auth_url(), sim.twitch_api_url(), sim.tiktok_url().
//! # let _ = video;
//! assert!(sim.violations().is_empty());
//! assert_eq!(sim.calls(Platform::YouTube), 0);
//! ```

mod common;
mod server;
mod tiktok;
mod twitch;
mod youtube;

pub use server::{Platform, Simulator};
pub use tiktok::TikTokPage;
