//! All of the simulator's state: users, groups with their roles, members and join requests, and the
//! API keys that act on them (OAuth 2.0 apps and what users granted them are in [`crate::oauth`]).
//!
//! Tests build a `World` with the builder methods, hand it to [`crate::Simulator::start`], and read
//! or change it mid-test through [`crate::Simulator::world`] and [`crate::Simulator::world_mut`].
//! Builder methods panic when given ids that do not exist or that clash: that is a bug in the test's
//! setup, not a Roblox error.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasher, Hasher};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::oauth::OAuthState;
use crate::time::Timestamp;

/// The permissions a group role grants, as Roblox names them (`GroupRole_RolePermissions` in the
/// document, in its order).
pub const PERMISSIONS: [&str; 30] = [
    "viewWallPosts",
    "createWallPosts",
    "deleteWallPosts",
    "viewGroupShout",
    "createGroupShout",
    "changeRank",
    "acceptRequests",
    "exileMembers",
    "manageRelationships",
    "viewAuditLog",
    "spendGroupFunds",
    "advertiseGroup",
    "createAvatarItems",
    "manageAvatarItems",
    "manageGroupUniverses",
    "viewUniverseAnalytics",
    "createApiKeys",
    "manageApiKeys",
    "banMembers",
    "viewForums",
    "manageCategories",
    "createPosts",
    "lockPosts",
    "pinPosts",
    "removePosts",
    "createComments",
    "removeComments",
    "manageBlockedWords",
    "viewBlockedWords",
    "bypassSlowMode",
];

/// What the guest role (rank 0) may do: look.
const GUEST_PERMISSIONS: [&str; 3] = ["viewWallPosts", "viewGroupShout", "viewForums"];
/// What every member role adds.
const MEMBER_PERMISSIONS: [&str; 3] = ["createWallPosts", "createPosts", "createComments"];
/// What roles ranked 100 and above add: managing members.
const OFFICER_PERMISSIONS: [&str; 10] = [
    "changeRank",
    "acceptRequests",
    "exileMembers",
    "deleteWallPosts",
    "banMembers",
    "viewAuditLog",
    "lockPosts",
    "pinPosts",
    "removePosts",
    "removeComments",
];

/// The rank of every group's guest role (what non-members are).
pub const GUEST_RANK: u8 = 0;
/// The rank of every group's owner role (held by the owner alone).
pub const OWNER_RANK: u8 = 255;

/// Where ids the world makes up itself start (the guest and owner roles of each group), above the ids
/// tests choose.
const FIRST_GENERATED_ID: u64 = 1_000_000_000_000;

/// A Roblox user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    /// The user id.
    pub id: u64,
    /// The unique username.
    pub name: String,
    /// The display name.
    pub display_name: String,
    /// The profile description ("about").
    pub description: String,
    /// When the account was created (2020-01-01 unless set with [`World::set_user_created`]).
    pub created: Timestamp,
    /// Usernames the user had before ([`World::rename_user`]); look-ups by username find them too.
    pub previous_names: Vec<String>,
    /// Banned from Roblox.
    pub banned: bool,
    /// Has the verified badge.
    pub verified_badge: bool,
    /// Has Roblox Premium.
    pub premium: bool,
    /// Has verified their identity (shown with the `user.advanced:read` scope only).
    pub id_verified: bool,
    /// The user's locale, an IETF language tag.
    pub locale: String,
}

/// A group's own settings (roles, members and join requests have their own readers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupView {
    /// The group id.
    pub id: u64,
    /// The name.
    pub name: String,
    /// The description.
    pub description: String,
    /// The owner's user id, `None` for an abandoned group.
    pub owner: Option<u64>,
    /// When the group was created.
    pub created: Timestamp,
    /// When the group was last changed.
    pub updated: Timestamp,
    /// Anyone may join without a request.
    pub public_entry_allowed: bool,
    /// Locked by Roblox's moderation.
    pub locked: bool,
    /// Has the verified badge.
    pub verified: bool,
}

/// A group role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleView {
    /// The role id (unique across groups, as Roblox's are).
    pub id: u64,
    /// The group it belongs to.
    pub group_id: u64,
    /// The name.
    pub name: String,
    /// The description.
    pub description: String,
    /// The rank: 0 for the guest role, 255 for the owner's, 1 to 254 for the others.
    pub rank: u8,
    /// The permissions it grants, by the names of [`PERMISSIONS`].
    pub permissions: BTreeSet<&'static str>,
    /// When it was created.
    pub created: Timestamp,
    /// When it was last changed.
    pub updated: Timestamp,
}

/// Who owns an API key: a user (who acts with their own rank in a group) or a group (which acts as
/// its owner would).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyOwner {
    /// A user-owned key.
    User(u64),
    /// A group-owned key.
    Group(u64),
}

impl KeyOwner {
    /// The resource path of the owner, `users/1` or `groups/7` (rate limits count per owner).
    pub fn path(self) -> String {
        match self {
            KeyOwner::User(id) => format!("users/{id}"),
            KeyOwner::Group(id) => format!("groups/{id}"),
        }
    }
}

/// An Open Cloud API key: who owns it, the scopes it was given and the groups it may act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The owner.
    pub owner: KeyOwner,
    /// Scopes, as Roblox names them: `group:read`, `group:write`, `user.advanced:read`, ...
    pub scopes: Vec<String>,
    /// The groups the key was created for; operations that need a scope act on these groups only
    /// (empty: none).
    pub groups: Vec<u64>,
}

impl ApiKey {
    /// A key owned by `user`, with `scopes`, for `groups`.
    pub fn for_user(user: u64, scopes: &[&str], groups: &[u64]) -> Self {
        Self { owner: KeyOwner::User(user), scopes: strings(scopes), groups: groups.to_vec() }
    }

    /// A key owned by `group`, with `scopes`, for that group.
    pub fn for_group(group: u64, scopes: &[&str]) -> Self {
        Self { owner: KeyOwner::Group(group), scopes: strings(scopes), groups: vec![group] }
    }

    /// Whether the key was given `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// A member's place in a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    pub(crate) roles: BTreeSet<u64>,
    pub(crate) created: Timestamp,
    pub(crate) updated: Timestamp,
}

/// A group with everything in it.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) view: GroupView,
    pub(crate) roles: BTreeMap<u64, RoleView>,
    pub(crate) members: BTreeMap<u64, Member>,
    /// Pending join requests: user id -> when it was made.
    pub(crate) join_requests: BTreeMap<u64, Timestamp>,
}

impl Group {
    /// The roles, lowest rank first (ties by id).
    pub(crate) fn roles_by_rank(&self) -> Vec<&RoleView> {
        let mut roles: Vec<&RoleView> = self.roles.values().collect();
        roles.sort_by_key(|role| (role.rank, role.id));
        roles
    }

    /// A member's roles, highest rank first.
    pub(crate) fn member_roles(&self, user: u64) -> Option<Vec<&RoleView>> {
        let member = self.members.get(&user)?;
        let mut roles: Vec<&RoleView> = member.roles.iter().filter_map(|id| self.roles.get(id)).collect();
        roles.sort_by_key(|role| (std::cmp::Reverse(role.rank), role.id));
        Some(roles)
    }

    /// A member's highest rank.
    pub(crate) fn member_rank(&self, user: u64) -> Option<u8> {
        self.member_roles(user)?.first().map(|role| role.rank)
    }

    /// How many members hold `role`.
    pub(crate) fn role_member_count(&self, role: u64) -> usize {
        self.members.values().filter(|member| member.roles.contains(&role)).count()
    }

    /// The role new members get: the lowest-ranked role that is neither the guest's nor the owner's.
    pub(crate) fn entry_role(&self) -> Option<u64> {
        self.roles_by_rank().into_iter().find(|role| role.rank != GUEST_RANK && role.rank != OWNER_RANK).map(|r| r.id)
    }
}

/// Random-looking secrets: a hasher with random keys over a counter.
#[derive(Debug)]
struct Entropy {
    keys: RandomState,
    counter: u64,
}

impl Entropy {
    fn next_u64(&mut self) -> u64 {
        self.counter += 1;
        let mut hasher = self.keys.build_hasher();
        hasher.write_u64(self.counter);
        hasher.finish()
    }

    /// `bytes` random bytes, as unpadded URL-safe base64.
    fn secret(&mut self, bytes: usize) -> String {
        let raw: Vec<u8> = (0..bytes.div_ceil(8)).flat_map(|_| self.next_u64().to_le_bytes()).take(bytes).collect();
        URL_SAFE_NO_PAD.encode(raw)
    }
}

/// The simulated Roblox: see the module documentation.
#[derive(Debug)]
pub struct World {
    users: BTreeMap<u64, UserView>,
    pub(crate) groups: BTreeMap<u64, Group>,
    pub(crate) keys: HashMap<String, ApiKey>,
    pub(crate) oauth: OAuthState,
    entropy: Entropy,
    next_id: u64,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

/// 2020-01-01T00:00:00Z, when users and groups were created unless a test says otherwise.
const DEFAULT_CREATED: Timestamp = Timestamp(1_577_836_800_000);

impl World {
    /// An empty world.
    pub fn new() -> Self {
        Self {
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
            keys: HashMap::new(),
            oauth: OAuthState::default(),
            entropy: Entropy { keys: RandomState::new(), counter: 0 },
            next_id: FIRST_GENERATED_ID,
        }
    }

    fn generated_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// A fresh random secret of `bytes` bytes, as unpadded URL-safe base64 (API keys, tokens, codes).
    pub fn random_secret(&mut self, bytes: usize) -> String {
        self.entropy.secret(bytes)
    }

    // --- users -----------------------------------------------------------------------------------

    /// Adds a user.
    ///
    /// # Panics
    /// If the id is taken, or the username is taken (usernames are unique, whatever their case).
    pub fn add_user(&mut self, id: u64, name: &str, display_name: &str) {
        assert!(!self.users.contains_key(&id), "user {id} already exists");
        assert!(self.user_by_name(name).is_none(), "the username {name} is taken");
        self.users.insert(
            id,
            UserView {
                id,
                name: name.to_owned(),
                display_name: display_name.to_owned(),
                description: String::new(),
                created: DEFAULT_CREATED,
                previous_names: Vec::new(),
                banned: false,
                verified_badge: false,
                premium: false,
                id_verified: false,
                locale: "en-us".to_owned(),
            },
        );
    }

    fn user_mut(&mut self, id: u64) -> &mut UserView {
        self.users.get_mut(&id).unwrap_or_else(|| panic!("no user {id}"))
    }

    /// Sets a user's profile description.
    pub fn set_description(&mut self, user: u64, text: &str) {
        self.user_mut(user).description = text.to_owned();
    }

    /// Sets when a user's account was created.
    pub fn set_user_created(&mut self, user: u64, created: Timestamp) {
        self.user_mut(user).created = created;
    }

    /// Bans a user from Roblox (look-ups may exclude banned users).
    pub fn ban_user(&mut self, user: u64) {
        self.user_mut(user).banned = true;
    }

    /// Gives a user the verified badge.
    pub fn set_verified_badge(&mut self, user: u64, verified: bool) {
        self.user_mut(user).verified_badge = verified;
    }

    /// Renames a user; the old name stays findable as a previous username.
    ///
    /// # Panics
    /// If another user has the name.
    pub fn rename_user(&mut self, user: u64, name: &str) {
        if let Some(other) = self.user_by_name(name) {
            assert_eq!(other.id, user, "the username {name} is taken");
        }
        let user = self.user_mut(user);
        let old = std::mem::replace(&mut user.name, name.to_owned());
        user.previous_names.push(old);
    }

    /// A user by id.
    pub fn user(&self, id: u64) -> Option<&UserView> {
        self.users.get(&id)
    }

    /// The user whose current username is `name`, whatever its case.
    pub fn user_by_name(&self, name: &str) -> Option<&UserView> {
        self.users.values().find(|user| user.name.eq_ignore_ascii_case(name))
    }

    /// The user who has or once had the username `name`, whatever its case (current names first).
    pub(crate) fn user_by_current_or_previous_name(&self, name: &str) -> Option<&UserView> {
        self.user_by_name(name).or_else(|| {
            self.users.values().find(|user| user.previous_names.iter().any(|old| old.eq_ignore_ascii_case(name)))
        })
    }

    // --- groups ----------------------------------------------------------------------------------

    /// Adds a group owned by `owner`, with its guest role (rank 0, "Guest") and owner role (rank 255,
    /// "Owner"), the owner its only member. The two roles get ids the world makes up
    /// ([`World::guest_role`], [`World::owner_role`]).
    ///
    /// # Panics
    /// If the group exists or the owner does not.
    pub fn add_group(&mut self, id: u64, name: &str, owner: u64) {
        assert!(!self.groups.contains_key(&id), "group {id} already exists");
        assert!(self.users.contains_key(&owner), "no user {owner} to own group {id}");
        let view = GroupView {
            id,
            name: name.to_owned(),
            description: String::new(),
            owner: Some(owner),
            created: DEFAULT_CREATED,
            updated: DEFAULT_CREATED,
            public_entry_allowed: false,
            locked: false,
            verified: false,
        };
        self.groups.insert(
            id,
            Group { view, roles: BTreeMap::new(), members: BTreeMap::new(), join_requests: BTreeMap::new() },
        );
        let guest = self.generated_id();
        self.insert_role(id, guest, "Guest", GUEST_RANK);
        let owner_role = self.generated_id();
        self.insert_role(id, owner_role, "Owner", OWNER_RANK);
        let now = Timestamp::now();
        self.group_mut(id)
            .members
            .insert(owner, Member { roles: BTreeSet::from([owner_role]), created: DEFAULT_CREATED, updated: now });
    }

    pub(crate) fn group_mut(&mut self, id: u64) -> &mut Group {
        self.groups.get_mut(&id).unwrap_or_else(|| panic!("no group {id}"))
    }

    fn group_ref(&self, id: u64) -> &Group {
        self.groups.get(&id).unwrap_or_else(|| panic!("no group {id}"))
    }

    /// Sets a group's description.
    pub fn set_group_description(&mut self, group: u64, text: &str) {
        self.group_mut(group).view.description = text.to_owned();
    }

    /// Adds a role ranked `rank` (1 to 254). Its permissions follow its rank: every role may view the
    /// wall, shout and forums and post; roles ranked 100 and above also manage members (`changeRank`,
    /// `acceptRequests`, `exileMembers`, `banMembers`, ...); rank 254 has every permission. Change
    /// them with [`World::set_role_permission`].
    ///
    /// # Panics
    /// If the group does not exist, the role id is taken, the rank is 0 or 255 (every group has those
    /// roles already) or another role of the group has it.
    pub fn add_role(&mut self, group: u64, role_id: u64, name: &str, rank: u8) {
        assert!(rank != GUEST_RANK && rank != OWNER_RANK, "rank {rank} is the guest's or the owner's");
        assert!(self.group_ref(group).roles.values().all(|r| r.rank != rank), "group {group} has a role ranked {rank}");
        self.insert_role(group, role_id, name, rank);
    }

    fn insert_role(&mut self, group: u64, role_id: u64, name: &str, rank: u8) {
        let taken = self.groups.values().any(|g| g.roles.contains_key(&role_id));
        assert!(!taken, "role {role_id} already exists");
        let mut permissions: BTreeSet<&'static str> = GUEST_PERMISSIONS.into_iter().collect();
        if rank != GUEST_RANK {
            permissions.extend(MEMBER_PERMISSIONS);
        }
        if rank >= 100 {
            permissions.extend(OFFICER_PERMISSIONS);
        }
        if rank >= 254 {
            permissions.extend(PERMISSIONS);
        }
        let role = RoleView {
            id: role_id,
            group_id: group,
            name: name.to_owned(),
            description: String::new(),
            rank,
            permissions,
            created: DEFAULT_CREATED,
            updated: DEFAULT_CREATED,
        };
        self.group_mut(group).roles.insert(role_id, role);
    }

    /// Grants or withdraws one permission of a role.
    ///
    /// # Panics
    /// If the role does not exist or `permission` is not one of [`PERMISSIONS`].
    pub fn set_role_permission(&mut self, group: u64, role: u64, permission: &str, granted: bool) {
        let name = PERMISSIONS
            .into_iter()
            .find(|p| *p == permission)
            .unwrap_or_else(|| panic!("{permission} is not a group role permission"));
        let role = self.group_mut(group).roles.get_mut(&role).unwrap_or_else(|| panic!("no role {role} in {group}"));
        match granted {
            true => role.permissions.insert(name),
            false => role.permissions.remove(name),
        };
        role.updated = Timestamp::now();
    }

    /// Makes `user` a member holding `role`.
    ///
    /// # Panics
    /// If the user or role does not exist, the user is a member already, or the role is the guest's
    /// or the owner's.
    pub fn add_member(&mut self, group: u64, user: u64, role: u64) {
        assert!(self.users.contains_key(&user), "no user {user}");
        let rank = self.checked_role(group, role);
        assert!(rank != GUEST_RANK && rank != OWNER_RANK, "role {role} is the guest's or the owner's");
        let group = self.group_mut(group);
        assert!(!group.members.contains_key(&user), "user {user} is a member of group {} already", group.view.id);
        group.join_requests.remove(&user);
        let now = Timestamp::now();
        group.members.insert(user, Member { roles: BTreeSet::from([role]), created: now, updated: now });
    }

    /// Gives a member one more role (members may hold several).
    ///
    /// # Panics
    /// As [`World::add_member`], and if the user is not a member.
    pub fn add_member_role(&mut self, group: u64, user: u64, role: u64) {
        let rank = self.checked_role(group, role);
        assert!(rank != GUEST_RANK && rank != OWNER_RANK, "role {role} is the guest's or the owner's");
        let member = self.group_mut(group).members.get_mut(&user).unwrap_or_else(|| panic!("{user} is no member"));
        member.roles.insert(role);
        member.updated = Timestamp::now();
    }

    /// The rank of a role of the group.
    fn checked_role(&self, group: u64, role: u64) -> u8 {
        self.group_ref(group).roles.get(&role).unwrap_or_else(|| panic!("no role {role} in group {group}")).rank
    }

    /// Records that `user` asked to join `group`, now.
    ///
    /// # Panics
    /// If the user does not exist or is a member.
    pub fn add_join_request(&mut self, group: u64, user: u64) {
        assert!(self.users.contains_key(&user), "no user {user}");
        let group = self.group_mut(group);
        assert!(!group.members.contains_key(&user), "user {user} is a member already");
        // Requests keep their order even when made within one millisecond.
        let now = Timestamp::now().max(group.join_requests.values().max().map_or(Timestamp(0), |t| t.plus_ms(1)));
        group.join_requests.entry(user).or_insert(now);
    }

    /// Registers an API key under its secret (what clients send in `x-api-key`).
    pub fn add_api_key(&mut self, secret: &str, key: ApiKey) {
        self.keys.insert(secret.to_owned(), key);
    }

    /// Removes an API key (requests with it are then refused with 401).
    pub fn revoke_api_key(&mut self, secret: &str) {
        self.keys.remove(secret);
    }

    // --- readers ---------------------------------------------------------------------------------

    /// A group's settings.
    pub fn group(&self, id: u64) -> Option<&GroupView> {
        self.groups.get(&id).map(|group| &group.view)
    }

    /// A group's roles, lowest rank first.
    pub fn roles(&self, group: u64) -> Vec<&RoleView> {
        self.groups.get(&group).map(Group::roles_by_rank).unwrap_or_default()
    }

    /// A role of a group.
    pub fn role(&self, group: u64, role: u64) -> Option<&RoleView> {
        self.groups.get(&group)?.roles.get(&role)
    }

    /// The id of the group's role of this rank.
    pub fn role_with_rank(&self, group: u64, rank: u8) -> Option<u64> {
        self.groups.get(&group)?.roles.values().find(|role| role.rank == rank).map(|role| role.id)
    }

    /// The id of the group's guest role (rank 0).
    ///
    /// # Panics
    /// If the group does not exist.
    pub fn guest_role(&self, group: u64) -> u64 {
        self.role_with_rank(group, GUEST_RANK).unwrap_or_else(|| panic!("no group {group}"))
    }

    /// The id of the group's owner role (rank 255).
    ///
    /// # Panics
    /// If the group does not exist.
    pub fn owner_role(&self, group: u64) -> u64 {
        self.role_with_rank(group, OWNER_RANK).unwrap_or_else(|| panic!("no group {group}"))
    }

    /// The members' user ids, ascending.
    pub fn members(&self, group: u64) -> Vec<u64> {
        self.groups.get(&group).map(|g| g.members.keys().copied().collect()).unwrap_or_default()
    }

    /// A member's role ids, highest rank first; `None` for a non-member.
    pub fn member_roles(&self, group: u64, user: u64) -> Option<Vec<u64>> {
        Some(self.groups.get(&group)?.member_roles(user)?.iter().map(|role| role.id).collect())
    }

    /// A member's highest rank; `None` for a non-member.
    pub fn member_rank(&self, group: u64, user: u64) -> Option<u8> {
        self.groups.get(&group)?.member_rank(user)
    }

    /// The users with a pending request to join, oldest request first.
    pub fn join_requests(&self, group: u64) -> Vec<u64> {
        let Some(group) = self.groups.get(&group) else { return Vec::new() };
        let mut requests: Vec<(Timestamp, u64)> = group.join_requests.iter().map(|(user, at)| (*at, *user)).collect();
        requests.sort();
        requests.into_iter().map(|(_, user)| user).collect()
    }

    /// The key registered under `secret`.
    pub fn api_key(&self, secret: &str) -> Option<&ApiKey> {
        self.keys.get(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> World {
        let mut world = World::new();
        world.add_user(1, "Owner", "The Owner");
        world.add_user(2, "Member", "A Member");
        world.add_group(7, "Seven", 1);
        world.add_role(7, 70, "Private", 1);
        world.add_role(7, 71, "Officer", 100);
        world
    }

    #[test]
    fn groups_start_with_guest_and_owner_roles_and_the_owner() {
        let world = small();
        let ranks: Vec<u8> = world.roles(7).iter().map(|role| role.rank).collect();
        assert_eq!(ranks, [0, 1, 100, 255]);
        assert_eq!(world.member_rank(7, 1), Some(255));
        assert_eq!(world.member_roles(7, 1), Some(vec![world.owner_role(7)]));
        assert!(world.guest_role(7) >= FIRST_GENERATED_ID);
        assert_eq!(world.members(7), [1]);
        assert_eq!(world.group(7).and_then(|g| g.owner), Some(1));
    }

    #[test]
    fn permissions_follow_rank() {
        let world = small();
        let of = |role: u64| world.role(7, role).map(|r| r.permissions.clone()).unwrap_or_default();
        assert!(!of(world.guest_role(7)).contains("createWallPosts"));
        assert!(of(70).contains("createWallPosts") && !of(70).contains("changeRank"));
        assert!(of(71).contains("changeRank") && of(71).contains("acceptRequests"));
        assert_eq!(of(world.owner_role(7)).len(), PERMISSIONS.len());
    }

    #[test]
    fn members_hold_roles_highest_first() {
        let mut world = small();
        world.add_member(7, 2, 70);
        world.add_member_role(7, 2, 71);
        assert_eq!(world.member_roles(7, 2), Some(vec![71, 70]));
        assert_eq!(world.member_rank(7, 2), Some(100));
        assert_eq!(world.member_rank(7, 3), None);
    }

    #[test]
    fn join_requests_keep_their_order() {
        let mut world = small();
        for id in [5, 4, 3] {
            world.add_user(id, &format!("user{id}"), "U");
            world.add_join_request(7, id);
        }
        assert_eq!(world.join_requests(7), [5, 4, 3]);
        world.add_member(7, 4, 70);
        assert_eq!(world.join_requests(7), [5, 3], "a member has no pending request");
    }

    #[test]
    fn usernames_are_unique_and_previous_names_are_kept() {
        let mut world = small();
        world.rename_user(2, "Renamed");
        assert_eq!(world.user_by_name("renamed").map(|u| u.id), Some(2));
        assert_eq!(world.user_by_current_or_previous_name("MEMBER").map(|u| u.id), Some(2));
        assert!(std::panic::catch_unwind(move || world.add_user(9, "OWNER", "x")).is_err());
    }

    #[test]
    #[should_panic(expected = "guest's or the owner's")]
    fn the_owner_role_cannot_be_given_by_the_builder() {
        let mut world = small();
        let owner = world.owner_role(7);
        world.add_member(7, 2, owner);
    }

    #[test]
    fn secrets_are_url_safe_and_distinct() {
        let mut world = World::new();
        let (a, b) = (world.random_secret(32), world.random_secret(32));
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }
}
