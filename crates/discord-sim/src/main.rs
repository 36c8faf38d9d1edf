//! `garrison-discord-sim`: serves the demo world on a local port until interrupted.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use garrison_discord_sim::{Simulator, World};

const USAGE: &str = "usage: garrison-discord-sim [--port PORT] [--host ADDRESS]
                           [--extra-members N] [--generated-members N] [--extra-bots N]
                           [--world-file PATH] [--no-spec-checks] [--realistic]

Serves a simulated Discord REST API v10 (under /api/v10) with a seeded demo server, and
Discord's OAuth2 (the page /oauth2/authorize, where the demo guild's owner signs in, and the
token endpoints under /api/v10/oauth2), until interrupted (Ctrl-C). Defaults: --host 127.0.0.1
--port 8090.

For benchmarks: --extra-members adds N members to the demo guild, --generated-members adds N
more quickly (with the member role; not listed in the world file), --extra-bots adds N bots
with the Moderator role, --bench-messages N fills a #bench channel with N messages, --bench-media
URL_PREFIX:N adds N messages there each with a video attachment at URL_PREFIX/N.mp4, --world-file
writes the guild id, the #bench channel id, every bot token and every member id as JSON,
--no-spec-checks skips validating traffic against Discord's OpenAPI document, --realistic adds
two realistic guilds (250 roles, 500 channels, AutoMod, onboarding, emojis, stickers, bans) and an
empty guild with the same features, the demo bot an administrator of all three, and writes their
ids under realistic in the world file.
GET /_simulator/calls answers the request count of every route.";

struct Args {
    addr: SocketAddr,
    extra_members: usize,
    generated_members: usize,
    extra_bots: usize,
    world_file: Option<std::path::PathBuf>,
    spec_checks: bool,
    bench_messages: usize,
    bench_media: Option<(String, usize)>,
    realistic: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut host = std::net::IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut port: u16 = 8090;
    let (mut extra_members, mut extra_bots, mut world_file, mut spec_checks) = (0, 0, None, true);
    let mut generated_members = 0;
    let (mut bench_messages, mut bench_media, mut realistic) = (0, None, false);
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
            "--extra-members" => {
                extra_members = value()?.parse().map_err(|_| "--extra-members takes a number".to_owned())?
            }
            "--generated-members" => {
                generated_members = value()?.parse().map_err(|_| "--generated-members takes a number".to_owned())?
            }
            "--extra-bots" => extra_bots = value()?.parse().map_err(|_| "--extra-bots takes a number".to_owned())?,
            "--world-file" => world_file = Some(value()?.into()),
            "--no-spec-checks" => spec_checks = false,
            "--realistic" => realistic = true,
            "--bench-messages" => {
                bench_messages = value()?.parse().map_err(|_| "--bench-messages takes a number".to_owned())?
            }
            "--bench-media" => {
                let text = value()?;
                let (prefix, count) = text.rsplit_once(':').ok_or("--bench-media takes URL_PREFIX:N")?;
                let count = count.parse().map_err(|_| "--bench-media takes URL_PREFIX:N".to_owned())?;
                bench_media = Some((prefix.to_owned(), count));
            }
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        addr: SocketAddr::new(host, port),
        extra_members,
        generated_members,
        extra_bots,
        world_file,
        spec_checks,
        bench_messages,
        bench_media,
        realistic,
    })
}

/// Prints a line, ignoring a closed or failing stdout: the simulator keeps serving whoever reads it
/// (a benchmark that stopped reading after the address must not end it).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Two realistic guilds and an empty one with the same features and boosts, `bot` an administrator of
/// each (what a backup benchmark restores between), as the world file describes them.
fn realistic_guilds(world: &mut World, owner: u64, bot: u64) -> serde_json::Value {
    use garrison_discord_sim::permissions::ADMINISTRATOR;
    let ids = |ids: &[u64]| ids.iter().map(u64::to_string).collect::<Vec<_>>();
    let mut guilds = Vec::new();
    for _ in 0..2 {
        let guild = world.add_realistic_guild(owner, bot);
        world.add_member(guild.guild, bot, &[guild.bot_role, guild.admin_role]);
        guilds.push(serde_json::json!({"guild": guild.guild.to_string(), "roles": ids(&guild.roles),
            "channels": ids(&guild.channels), "emojis": ids(&guild.emojis), "automodRules": ids(&guild.automod_rules)}));
    }
    let empty = world.add_guild("Empty", owner);
    world.set_guild_features(
        empty,
        &["COMMUNITY", "NEWS", "ROLE_ICONS", "ENHANCED_ROLE_COLORS", "AUTO_MODERATION", "BANNER"],
    );
    world.set_premium_tier(empty, 2);
    let admin = world.add_role(empty, "Garrison admin", ADMINISTRATOR, 1);
    world.add_member(empty, bot, &[admin]);
    serde_json::json!({"first": guilds[0], "second": guilds[1], "empty": empty.to_string()})
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
    let addr = args.addr;
    let (mut world, demo) = World::demo();
    let mut members = demo.members.clone();
    for i in 0..args.extra_members {
        let user = world.add_user(&format!("member{i}"));
        world.add_member(demo.guild, user, &[demo.member_role]);
        members.push(user);
    }
    world.add_generated_members(demo.guild, args.generated_members, &[demo.member_role]);
    let mut tokens = vec![demo.bot.token.clone()];
    for i in 0..args.extra_bots {
        let bot = world.add_bot(&format!("Bot {i}"));
        world.add_member(demo.guild, bot.user_id, &[demo.moderator_role]);
        tokens.push(bot.token);
    }
    let bench = world.add_channel(demo.guild, 0, "bench", None, 20);
    for i in 0..args.bench_messages {
        let author = members[i % members.len()];
        world.add_message(
            bench,
            author,
            &format!("Message {i}: **bold**, *italic*, `code` and <@{author}> ||spoiler||"),
        );
    }
    if let Some((prefix, count)) = &args.bench_media {
        for i in 0..*count {
            let url = format!("{}/{i}.mp4", prefix.trim_end_matches('/'));
            let attachment = serde_json::json!({"id": (1_180_000_000_000_000_000u64 + i as u64).to_string(),
                "filename": format!("{i}.mp4"), "size": 0, "content_type": "video/mp4", "url": url, "proxy_url": url});
            world.add_message_json(
                bench,
                demo.owner,
                serde_json::json!({"content": format!("clip {i}"), "attachments": [attachment]}),
            );
        }
    }
    let realistic = args.realistic.then(|| realistic_guilds(&mut world, demo.owner, demo.bot.user_id));
    if let Some(path) = &args.world_file {
        let description = serde_json::json!({"guild": demo.guild.to_string(), "bench": bench.to_string(), "tokens": tokens,
            "voice": demo.voice.to_string(), "memberRole": demo.member_role.to_string(),
            "members": members.iter().map(u64::to_string).collect::<Vec<_>>(), "realistic": realistic});
        if let Err(error) = std::fs::write(path, description.to_string()) {
            eprintln!("cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
    }
    let sim = match Simulator::start_on(addr, world) {
        Ok(sim) => sim,
        Err(error) => {
            eprintln!("cannot listen on {addr}: {error}");
            return ExitCode::FAILURE;
        }
    };
    sim.set_spec_checks(args.spec_checks);
    sim.set_oauth_user(Some(demo.owner));
    let base = sim.base_url();
    say!("Simulated Discord REST API v10 at {base}/api/v10");
    say!("Gateway (v10, JSON, no compression) at {}", sim.gateway_url());
    say!();
    say!("Bot token        {}", demo.bot.token);
    say!("Bot user id      {}", demo.bot.user_id);
    say!("Guild            {} (Garrison Demo)", demo.guild);
    say!("Owner            {}", demo.owner);
    say!("Administrator    {}", demo.admin);
    say!("Moderator        {}", demo.moderator);
    say!("Booster          {}", demo.booster);
    say!("Members          {} ordinary, e.g. {}", demo.members.len(), demo.members.first().copied().unwrap_or(0));
    say!(
        "Roles            moderator {} member {} officer {} booster {}",
        demo.moderator_role,
        demo.member_role,
        demo.officer_role,
        demo.booster_role
    );
    say!(
        "Channels         #welcome {} #general {} #announcements {} #staff {} #mod-log {} voice {}",
        demo.welcome,
        demo.general,
        demo.announcements,
        demo.staff,
        demo.mod_log,
        demo.voice
    );
    say!("Invite           {}", demo.invite);
    say!("OAuth2 app       client {} secret {}", demo.oauth_client_id, demo.oauth_client_secret);
    say!("                 redirect {} (signing in as the owner)", demo.oauth_redirect_uri);
    say!();
    say!("Point Garrison at it:");
    say!("  GARRISON_DISCORD_API_URL={base} GARRISON_DISCORD_BOT_TOKEN='{}' garrison serve", demo.bot.token);
    say!(
        "  (sign-in: GARRISON_DISCORD_CLIENT_ID={} GARRISON_DISCORD_CLIENT_SECRET={} GARRISON_DISCORD_OAUTH_URL={base}{})",
        demo.oauth_client_id,
        demo.oauth_client_secret,
        garrison_discord_sim::AUTHORIZE_PATH
    );
    say!("Try it:");
    say!("  curl -H 'Authorization: Bot {}' {base}/api/v10/guilds/{}?with_counts=true", demo.bot.token, demo.guild);
    say!();
    say!("Ctrl-C stops it.");
    loop {
        std::thread::park();
    }
}
