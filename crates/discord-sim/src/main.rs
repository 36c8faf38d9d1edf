//! `garrison-discord-sim`: serves the demo world on a local port until interrupted.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use garrison_discord_sim::{Simulator, World};

const USAGE: &str = "usage: garrison-discord-sim [--port PORT] [--host ADDRESS]

Serves a simulated Discord REST API v10 (under /api/v10) with a seeded demo server,
until interrupted (Ctrl-C). Defaults: --host 127.0.0.1 --port 8090.";

fn parse_args() -> Result<SocketAddr, String> {
    let mut host = std::net::IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut port: u16 = 8090;
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

// The binary's whole job is to tell a person what it started.
#[allow(clippy::print_stdout)]
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
    let (world, demo) = World::demo();
    let sim = match Simulator::start_on(addr, world) {
        Ok(sim) => sim,
        Err(error) => {
            eprintln!("cannot listen on {addr}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let base = sim.base_url();
    println!("Simulated Discord REST API v10 at {base}/api/v10");
    println!();
    println!("Bot token        {}", demo.bot.token);
    println!("Bot user id      {}", demo.bot.user_id);
    println!("Guild            {} (Garrison Demo)", demo.guild);
    println!("Owner            {}", demo.owner);
    println!("Administrator    {}", demo.admin);
    println!("Moderator        {}", demo.moderator);
    println!("Booster          {}", demo.booster);
    println!("Members          {} ordinary, e.g. {}", demo.members.len(), demo.members.first().copied().unwrap_or(0));
    println!(
        "Roles            moderator {} member {} officer {} booster {}",
        demo.moderator_role, demo.member_role, demo.officer_role, demo.booster_role
    );
    println!(
        "Channels         #welcome {} #general {} #announcements {} #staff {} #mod-log {} voice {}",
        demo.welcome, demo.general, demo.announcements, demo.staff, demo.mod_log, demo.voice
    );
    println!("Invite           {}", demo.invite);
    println!();
    println!("Point Garrison at it:");
    println!("  GARRISON_DISCORD_API_URL={base} GARRISON_DISCORD_BOT_TOKEN='{}' garrison serve", demo.bot.token);
    println!("Try it:");
    println!("  curl -H 'Authorization: Bot {}' {base}/api/v10/guilds/{}?with_counts=true", demo.bot.token, demo.guild);
    println!();
    println!("Ctrl-C stops it.");
    loop {
        std::thread::park();
    }
}
