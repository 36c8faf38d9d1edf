//! A seeded demo group, for trying Garrison against the simulator and for tests that want a realistic
//! group without building one.

use crate::world::{ApiKey, World};

/// The ids and key secrets of the world [`World::demo`] builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demo {
    /// "Garrison Demo Regiment".
    pub group: u64,
    /// The group's owner (Owner, rank 255).
    pub owner: u64,
    /// Holds Admin (254).
    pub admin: u64,
    /// Holds Major (100).
    pub major: u64,
    /// Holds Captain (50).
    pub captain: u64,
    /// Holds Corporal (10).
    pub corporal: u64,
    /// Hold Member (1).
    pub members: Vec<u64>,
    /// Have asked to join, oldest request first.
    pub applicants: Vec<u64>,
    /// A user with no tie to the group.
    pub outsider: u64,
    /// A user banned from Roblox (look-ups may exclude them).
    pub banned: u64,
    /// Guest, rank 0 (what non-members are).
    pub guest_role: u64,
    /// Member, rank 1: what accepted applicants get.
    pub member_role: u64,
    /// Corporal, rank 10.
    pub corporal_role: u64,
    /// Captain, rank 50.
    pub captain_role: u64,
    /// Major, rank 100: may change ranks below 100 and handle join requests.
    pub major_role: u64,
    /// Admin, rank 254: every permission.
    pub admin_role: u64,
    /// Owner, rank 255.
    pub owner_role: u64,
    /// A group-owned key with `group:read` and `group:write`: acts as the owner would.
    pub write_key: String,
    /// A group-owned key with `group:read` only.
    pub read_key: String,
    /// A key owned by the Major, with `group:read` and `group:write` for the group: acts with rank 100.
    pub major_key: String,
    /// A registered OAuth 2.0 app: its client id,
    pub oauth_client_id: String,
    /// its secret,
    pub oauth_client_secret: String,
    /// and its redirect URI.
    pub oauth_redirect_uri: String,
}

impl World {
    /// A group with roles Guest 0, Member 1, Corporal 10, Captain 50, Major 100, Admin 254 and Owner
    /// 255, members at each rank, three pending join requests, API keys and an OAuth 2.0 app: see
    /// [`Demo`].
    pub fn demo() -> (World, Demo) {
        let mut world = World::new();
        let group = 35_815_907;
        let users: [(u64, &str, &str, &str); 12] = [
            (1_850_000_001, "RegimentOwner", "Owner Avery", "Founded the regiment."),
            (1_850_000_002, "AdminBlake", "Blake", "Keeps the lights on."),
            (1_850_000_003, "MajorMorgan", "Major Morgan", "Trains recruits on weekends."),
            (1_850_000_004, "CaptainCasey", "Casey", ""),
            (1_850_000_005, "CorporalQuinn", "Quinn", ""),
            (1_850_000_006, "PrivateRiley", "Riley", "New here!"),
            (1_850_000_007, "PrivateSage", "Sage", ""),
            (1_850_000_008, "PrivateRowan", "Rowan", ""),
            (1_850_000_009, "RecruitJules", "Jules", "Verify me: garrison-1234"),
            (1_850_000_010, "RecruitKai", "Kai", ""),
            (1_850_000_011, "RecruitNoor", "Noor", ""),
            (1_850_000_012, "WandererLee", "Lee", ""),
        ];
        for (id, name, display_name, about) in users {
            world.add_user(id, name, display_name);
            world.set_description(id, about);
        }
        let banned = 1_850_000_013;
        world.add_user(banned, "BannedBo", "Bo");
        world.ban_user(banned);
        let owner = users[0].0;
        world.set_verified_badge(owner, true);
        world.add_group(group, "Garrison Demo Regiment", owner);
        world.set_group_description(group, "A demo group served by garrison-roblox-sim.");
        let roles = [
            (36_000_001, "Member", 1),
            (36_000_010, "Corporal", 10),
            (36_000_050, "Captain", 50),
            (36_000_100, "Major", 100),
            (36_000_254, "Admin", 254),
        ];
        for (id, name, rank) in roles {
            world.add_role(group, id, name, rank);
        }
        let [member_role, corporal_role, captain_role, major_role, admin_role] = roles.map(|(id, ..)| id);
        let admin = users[1].0;
        let major = users[2].0;
        let captain = users[3].0;
        let corporal = users[4].0;
        world.add_member(group, admin, admin_role);
        world.add_member(group, major, major_role);
        world.add_member(group, captain, captain_role);
        world.add_member(group, corporal, corporal_role);
        let members: Vec<u64> = users[5..8].iter().map(|user| user.0).collect();
        for &member in &members {
            world.add_member(group, member, member_role);
        }
        let applicants: Vec<u64> = users[8..11].iter().map(|user| user.0).collect();
        for &applicant in &applicants {
            world.add_join_request(group, applicant);
        }
        let write_key = world.random_secret(48);
        world.add_api_key(&write_key, ApiKey::for_group(group, &["group:read", "group:write"]));
        let read_key = world.random_secret(48);
        world.add_api_key(&read_key, ApiKey::for_group(group, &["group:read"]));
        let major_key = world.random_secret(48);
        world.add_api_key(&major_key, ApiKey::for_user(major, &["group:read", "group:write"], &[group]));
        let oauth_client_id = "3172469581028833175".to_owned();
        let oauth_client_secret = format!("RBX-{}", world.random_secret(48));
        let oauth_redirect_uri = "http://127.0.0.1:8080/oauth/callback".to_owned();
        world.add_oauth_client(&oauth_client_id, &oauth_client_secret, &[&oauth_redirect_uri]);
        let demo = Demo {
            group,
            owner,
            admin,
            major,
            captain,
            corporal,
            members,
            applicants,
            outsider: users[11].0,
            banned,
            guest_role: world.guest_role(group),
            member_role,
            corporal_role,
            captain_role,
            major_role,
            admin_role,
            owner_role: world.owner_role(group),
            write_key,
            read_key,
            major_key,
            oauth_client_id,
            oauth_client_secret,
            oauth_redirect_uri,
        };
        (world, demo)
    }
}
