//! `garrison-streams-sim`: serves a small demo world of YouTube, Twitch and TikTok on a local port until
//! interrupted.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use garrison_streams_sim::{Simulator, TikTokPage};

const USAGE: &str = "usage: garrison-streams-sim [--port PORT] [--host ADDRESS]

Serves simulated live-streaming platforms on one address, until interrupted (Ctrl-C):
the YouTube Data API v3 under /youtube/v3, Twitch's OAuth under /oauth2 and Helix under /helix
(streams, users, EventSub webhook subscriptions), and TikTok's live pages at /@USER/live.
Defaults: --host 127.0.0.1 --port 8092. EventSub callbacks may be plain http here.

GET /_sim/calls answers the request count of every route, GET /_sim/violations what clients did
wrong, GET /_sim/twitch/eventsub/subscriptions and /_sim/twitch/eventsub/deliveries EventSub's
subscriptions and the messages sent. POST JSON to change the world:
  /_sim/youtube/keys      {\"key\", \"dailyQuota\"}
  /_sim/youtube/channels  {\"handle\", \"title\"}            -> {\"channelId\"}
  /_sim/youtube/upload    {\"handle\", \"title\"}            -> {\"videoId\"}
  /_sim/youtube/live      {\"handle\", \"title\", \"viewers\"} -> {\"videoId\"}
  /_sim/youtube/offline   {\"handle\"}
  /_sim/twitch/clients    {\"clientId\", \"secret\"}
  /_sim/twitch/users      {\"login\", \"displayName\"}       -> {\"id\"}
  /_sim/twitch/live       {\"login\", \"title\", \"game\", \"viewers\"}
  /_sim/twitch/offline    {\"login\"}
  /_sim/twitch/eventsub/allow-http  {\"allow\": true|false}
  /_sim/twitch/eventsub/revoke      {\"id\", \"reason\"}
  /_sim/twitch/eventsub/replay      {}                   -> {\"status\"}
  /_sim/tiktok            {\"user\", \"state\": \"live\"|\"offline\"|\"changed\"|\"missing\", \"title\", \"viewers\"}
  /_sim/down              {\"platform\": \"youtube\"|\"twitch\"|\"tiktok\", \"down\": true|false}";

fn parse_args() -> Result<SocketAddr, String> {
    let mut host = std::net::IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut port: u16 = 8092;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| args.next()).ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--port" | "-p" => {
                port = value()?.parse().map_err(|_| "--port takes a number from 0 to 65535".to_owned())?
            }
            "--host" => host = value()?.parse().map_err(|_| "--host takes an IP address".to_owned())?,
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(SocketAddr::new(host, port))
}

/// Prints a line, ignoring a closed or failing stdout: the simulator keeps serving whoever reads it.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

fn main() -> ExitCode {
    let addr = match parse_args() {
        Ok(addr) => addr,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("{message}");
            }
            eprintln!("{USAGE}");
            return if message.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) };
        }
    };
    let sim = match Simulator::start_on(addr) {
        Ok(sim) => sim,
        Err(error) => {
            eprintln!("cannot listen on {addr}: {error}");
            return ExitCode::FAILURE;
        }
    };
    sim.youtube_add_key("demo-youtube-key", 10_000);
    let channel = sim.youtube_add_channel("@GarrisonLive", "Garrison Live");
    sim.youtube_upload("@GarrisonLive", "Last week's drill");
    let video = sim.youtube_go_live("@GarrisonLive", "Garrison drill night", 128);
    sim.twitch_add_client("demo-client", "demo-secret");
    sim.twitch_add_user("garrison_live", "Garrison_Live");
    sim.twitch_allow_http_callbacks(true);
    sim.twitch_go_live("garrison_live", "Garrison drill night", "Roblox", 64);
    sim.tiktok_set("garrison.live", TikTokPage::Live { title: "Garrison drill night".to_owned(), viewers: 32 });

    say!("Simulated streaming platforms at http://{}", sim.addr());
    say!();
    say!("YouTube API      {}  (key demo-youtube-key in X-Goog-Api-Key, 10000 units a day)", sim.youtube_url());
    say!("                 channel @GarrisonLive {channel}, live video {video}");
    say!("Twitch OAuth     {}  (client demo-client, secret demo-secret)", sim.twitch_auth_url());
    say!("Twitch Helix     {}  (garrison_live is live)", sim.twitch_api_url());
    say!("                 EventSub webhooks: http callbacks allowed");
    say!("TikTok           {}  (@garrison.live is live)", sim.tiktok_url());
    say!();
    say!("Try it:");
    say!(
        "  curl -H 'X-Goog-Api-Key: demo-youtube-key' '{}/channels?part=snippet,contentDetails&forHandle=@GarrisonLive'",
        sim.youtube_url()
    );
    say!(
        "  curl -d client_id=demo-client -d client_secret=demo-secret -d grant_type=client_credentials {}/token",
        sim.twitch_auth_url()
    );
    say!("  curl {}/@garrison.live/live", sim.tiktok_url());
    say!();
    say!("Ctrl-C stops it.");
    loop {
        std::thread::park();
    }
}
