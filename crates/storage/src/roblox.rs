use diesel::prelude::*;
use garrison_core::{
    Error, Result, ServerId, StoreError, Timestamp,
    roblox::{GroupId, OpenCloudKey, RobloxConfig, RobloxConfigs},
};

use crate::{
    Database,
    db::per_backend,
    failure::Failure,
    schema::roblox_settings,
    sealed::{SealError, SecretKey},
};

/// Each server's Roblox settings: its main group and its Open Cloud key, sealed with the server's
/// [`SecretKey`] (ChaCha20-Poly1305, bound to the guild id) so the database never holds the key in
/// the clear.
#[derive(Debug, Clone)]
pub struct DieselRobloxConfigs {
    db: Database,
    secret: SecretKey,
}

impl DieselRobloxConfigs {
    pub fn new(db: Database, secret: SecretKey) -> Self {
        Self { db, secret }
    }
}

/// What a sealed key is bound to: its table and its row.
fn context(guild: i64) -> Vec<u8> {
    let mut context = b"garrison roblox_settings.key_sealed guild ".to_vec();
    context.extend_from_slice(&guild.to_be_bytes());
    context
}

fn unreadable(guild: i64, err: SealError) -> Error {
    Error::Store(StoreError::Internal(format!("the Roblox key of server {guild} cannot be read: {err}")))
}

impl RobloxConfigs for DieselRobloxConfigs {
    fn get(&self, server: ServerId) -> Result<Option<RobloxConfig>> {
        let guild = server.get();
        let row = self.db.read(|conn| {
            Ok(roblox_settings::table
                .filter(roblox_settings::guild_id.eq(guild))
                .select((roblox_settings::group_id, roblox_settings::key_sealed))
                .first::<(i64, String)>(conn)
                .optional()?)
        })?;
        let Some((group, sealed)) = row else { return Ok(None) };
        let group = u64::try_from(group).ok().and_then(GroupId::new).ok_or_else(|| {
            Error::Store(StoreError::Internal(format!("roblox_settings holds group id {group} for server {guild}")))
        })?;
        let key = self.secret.open(&context(guild), &sealed).map_err(|e| unreadable(guild, e))?;
        let key = String::from_utf8(key).map_err(|_| unreadable(guild, SealError::Malformed))?;
        Ok(Some(RobloxConfig { group, key: OpenCloudKey::from_stored(key) }))
    }

    fn set(&self, server: ServerId, config: &RobloxConfig, at: Timestamp) -> Result<()> {
        let guild = server.get();
        let sealed =
            self.secret.seal(&context(guild), config.key.expose().as_bytes()).map_err(|e| unreadable(guild, e))?;
        let group = i64::try_from(config.group.get())
            .map_err(|_| Error::invalid("groupId", "is too large to record (the limit is 2^63 - 1)"))?;
        let values = (
            roblox_settings::group_id.eq(group),
            roblox_settings::key_sealed.eq(sealed),
            roblox_settings::updated_at.eq(at.millis()),
        );
        self.db.write(move |conn| {
            per_backend!(conn, |c| diesel::insert_into(roblox_settings::table)
                .values((roblox_settings::guild_id.eq(guild), values.clone()))
                .on_conflict(roblox_settings::guild_id)
                .do_update()
                .set(values)
                .execute(c))
            .map_err(Failure::from)?;
            Ok(())
        })
    }
}
