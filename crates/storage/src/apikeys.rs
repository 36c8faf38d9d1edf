use diesel::prelude::*;
use garrison_core::{
    ApiKeyId, Error, Result, ServerId, Timestamp,
    apikey::{ApiKey, KeyHash, NewApiKey},
    ports::ApiKeys,
};

use crate::{Database, schema::api_keys};

/// API keys in the database, found by the SHA-256 of the secret.
#[derive(Debug, Clone)]
pub struct DieselApiKeys {
    db: Database,
}

impl DieselApiKeys {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

type KeyRow = (i64, i64, String, i32, i64, Option<i64>);

const COLUMNS: (
    api_keys::id,
    api_keys::server_id,
    api_keys::name,
    api_keys::read_only,
    api_keys::created_at,
    api_keys::revoked_at,
) = (
    api_keys::id,
    api_keys::server_id,
    api_keys::name,
    api_keys::read_only,
    api_keys::created_at,
    api_keys::revoked_at,
);

fn to_key((id, server, name, read_only, created_at, revoked_at): KeyRow) -> ApiKey {
    ApiKey {
        id: ApiKeyId(id),
        server: ServerId::from_stored(server),
        name,
        read_only: read_only != 0,
        created_at: Timestamp(created_at),
        revoked_at: revoked_at.map(Timestamp),
    }
}

impl ApiKeys for DieselApiKeys {
    fn create(&self, key: NewApiKey) -> Result<ApiKey> {
        self.db.write(move |conn| {
            let row = diesel::insert_into(api_keys::table)
                .values((
                    api_keys::server_id.eq(key.server.get()),
                    api_keys::name.eq(&key.name),
                    api_keys::key_hash.eq(key.hash.as_str()),
                    api_keys::read_only.eq(i32::from(key.read_only)),
                    api_keys::created_at.eq(key.created_at.millis()),
                ))
                .returning(COLUMNS)
                .get_result::<KeyRow>(conn)?;
            Ok(to_key(row))
        })
    }

    fn find_active(&self, hash: &KeyHash) -> Result<Option<ApiKey>> {
        self.db.read(|conn| {
            let row = api_keys::table
                .filter(api_keys::key_hash.eq(hash.as_str()))
                .filter(api_keys::revoked_at.is_null())
                .select(COLUMNS)
                .load::<KeyRow>(conn)?
                .into_iter()
                .next();
            Ok(row.map(to_key))
        })
    }

    fn list(&self, server: ServerId) -> Result<Vec<ApiKey>> {
        self.db.read(|conn| {
            let rows = api_keys::table
                .filter(api_keys::server_id.eq(server.get()))
                .order(api_keys::id.asc())
                .select(COLUMNS)
                .load::<KeyRow>(conn)?;
            Ok(rows.into_iter().map(to_key).collect())
        })
    }

    fn revoke(&self, id: ApiKeyId, at: Timestamp) -> Result<ApiKey> {
        self.db.write(move |conn| {
            diesel::update(api_keys::table.filter(api_keys::id.eq(id.0)).filter(api_keys::revoked_at.is_null()))
                .set(api_keys::revoked_at.eq(at.millis()))
                .execute(conn)?;
            let row =
                api_keys::table.filter(api_keys::id.eq(id.0)).select(COLUMNS).load::<KeyRow>(conn)?.into_iter().next();
            row.map(to_key).ok_or_else(|| Error::UnknownApiKey { id: id.0 }.into())
        })
    }
}
