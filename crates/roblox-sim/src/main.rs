//! `garrison-roblox-sim`: serves the demo world on a local port until interrupted.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use garrison_roblox_sim::{Simulator, World};

const USAGE: &str = "usage: garrison-roblox-sim [--port PORT] [--host ADDRESS] [--no-spec-checks]

Serves simulated Roblox web APIs (Open Cloud v2 under /cloud/v2, the legacy users API under /v1,
OAuth 2.0 under /oauth, where the demo group's owner signs in) with a seeded demo group, until
interrupted (Ctrl-C). Defaults: --host 127.0.0.1 --port 8091.

--no-spec-checks skips validating traffic against Roblox's OpenAPI document.
GET /sim/calls answers the request count of every route.";

struct Args {
    addr: SocketAddr,
    spec_checks: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut host = std::net::IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut port: u16 = 8091;
    let mut spec_checks = true;
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
            "--no-spec-checks" => spec_checks = false,
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args { addr: SocketAddr::new(host, port), spec_checks })
}

/// Prints a line, ignoring a closed or failing stdout: the simulator keeps serving whoever reads it.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("{message}");
            }
            eprintln!("{USAGE}");
            return if message.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) };
        }
    };
    let (world, demo) = World::demo();
    let sim = match Simulator::start_on(args.addr, world) {
        Ok(sim) => sim,
        Err(error) => {
            eprintln!("cannot listen on {}: {error}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    sim.set_spec_checks(args.spec_checks);
    sim.set_oauth_user(Some(demo.owner));
    let base = sim.base_url();
    say!(
        "Simulated Roblox web APIs at {base} (Open Cloud v2 under /cloud/v2, users API under /v1, OAuth under /oauth)"
    );
    say!();
    say!("Group            {} (Garrison Demo Regiment)", demo.group);
    say!("Write key        {}  (group-owned: group:read group:write)", demo.write_key);
    say!("Read key         {}  (group-owned: group:read)", demo.read_key);
    say!("Major's key      {}  (user {}: group:read group:write, rank 100)", demo.major_key, demo.major);
    say!(
        "Roles            member {} corporal {} captain {} major {} admin {} (guest {} owner {})",
        demo.member_role,
        demo.corporal_role,
        demo.captain_role,
        demo.major_role,
        demo.admin_role,
        demo.guest_role,
        demo.owner_role
    );
    say!("OAuth app        client {} secret {}", demo.oauth_client_id, demo.oauth_client_secret);
    say!("                 redirect {} (signing in as the owner)", demo.oauth_redirect_uri);
    say!("Owner            {}", demo.owner);
    say!("Admin / Major    {} / {}", demo.admin, demo.major);
    say!("Captain / Corp.  {} / {}", demo.captain, demo.corporal);
    say!("Members          {:?}", demo.members);
    say!("Applicants       {:?}", demo.applicants);
    say!("Outsider         {}", demo.outsider);
    say!();
    say!("Try it:");
    say!("  curl -H 'x-api-key: {}' {base}/cloud/v2/groups/{}/roles", demo.read_key, demo.group);
    say!(
        "  curl -X POST -H 'content-type: application/json' -d '{{\"usernames\":[\"RecruitJules\"]}}' {base}/v1/usernames/users"
    );
    say!();
    say!("Ctrl-C stops it.");
    loop {
        std::thread::park();
    }
}
