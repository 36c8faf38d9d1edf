//! `garrison-streams-sim`: a stateful stand-in for the live-streaming platforms Garrison watches, for
//! tests and for trying Garrison without them. One HTTP server on one address serves all three under
//! disjoint paths:
//!
//! - the YouTube Data API v3 (<https://developers.google.com/youtube/v3/docs>):
//!   `GET /youtube/v3/channels`, `/playlistItems`, `/videos`, `/search`, with API keys, daily quotas
//!   charged as YouTube charges them, and Google's error bodies ([`Simulator::youtube_url`]);
//! - Twitch: the client-credentials grant `POST /oauth2/token`
//!   (<https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/#client-credentials-grant-flow>,
//!   [`Simulator::twitch_auth_url`]) and Helix ([`Simulator::twitch_api_url`]) with expiring tokens and
//!   per-client rate limits: `GET /helix/streams`
//!   (<https://dev.twitch.tv/docs/api/reference/#get-streams>), `GET /helix/users`
//!   (<https://dev.twitch.tv/docs/api/reference/#get-users>), and EventSub over webhooks
//!   (<https://dev.twitch.tv/docs/eventsub/handling-webhook-events/>): `POST`, `GET` and
//!   `DELETE /helix/eventsub/subscriptions` for `stream.online` and `stream.offline`, each new
//!   subscription's callback challenged, then sent signed notifications when a broadcaster goes live or
//!   offline, and revocations;
//! - TikTok's public live page `GET /@{user}/live` (`https://www.tiktok.com/@USER/live`, its
//!   `SIGI_STATE` script; [`Simulator::tiktok_url`]).
//!
//! Tests change the platforms through [`Simulator`]'s methods (channels and broadcasts, Twitch apps
//! and streams, TikTok pages, outages and latency) and check the traffic with [`Simulator::calls`],
//! [`Simulator::calls_to`] and [`Simulator::violations`]: API keys in URLs, requests without a
//! `User-Agent`, unknown routes. `GET /_sim/calls` answers the request count of every route and
//! `POST /_sim/...` controls change the state over HTTP (see `main.rs`).
//!
//! EventSub messages go out in the background, over plain HTTP (callbacks on loopback need
//! [`Simulator::twitch_allow_http_callbacks`]); tests wait for them with
//! [`Simulator::twitch_eventsub_wait_idle`], read them back with
//! [`Simulator::twitch_eventsub_subscriptions`] and [`Simulator::twitch_eventsub_deliveries`], and try a
//! receiver with [`Simulator::twitch_revoke`] and [`Simulator::twitch_eventsub_replay_last`].
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
mod eventsub;
mod server;
mod tiktok;
mod twitch;
mod webhooks;
mod youtube;

pub use eventsub::{Delivery, Subscription};
pub use server::{Platform, Simulator};
pub use tiktok::TikTokPage;
