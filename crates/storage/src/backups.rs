use diesel::prelude::*;
use garrison_core::{
    Error, Result, ServerId, StoreError, Timestamp,
    backups::{AuthTag, BackupIndex, BackupRecord, PremiumGrants, Version, VersionKind},
    view_id::ViewId,
};

use crate::{
    Database,
    failure::{Failure, on_unique},
    schema::{backup_versions, backups, premium_servers},
};

/// Backups' records: one row per backup (one per server, by a unique index) and one per version, both
/// changed together in one transaction.
#[derive(Debug, Clone)]
pub struct DieselBackupIndex {
    db: Database,
}

impl DieselBackupIndex {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

fn corrupt(what: String) -> Failure {
    Failure::Domain(Error::Store(StoreError::Internal(what)))
}

type BackupRow = (String, i64, Vec<u8>, Option<String>, i64);
type VersionRow = (i32, String, i64, i64);

fn record(conn: &mut crate::AnyConnection, row: BackupRow) -> Result<BackupRecord, Failure> {
    let (view, server, tag, filename, created_at) = row;
    let versions = backup_versions::table
        .filter(backup_versions::view_id.eq(&view))
        .order(backup_versions::number)
        .select((backup_versions::number, backup_versions::kind, backup_versions::bytes, backup_versions::created_at))
        .load::<VersionRow>(conn)?
        .into_iter()
        .map(|(number, kind, bytes, at)| {
            Ok(Version {
                number: u32::try_from(number).map_err(|_| corrupt(format!("backup_versions holds number {number}")))?,
                kind: VersionKind::parse(&kind)
                    .ok_or_else(|| corrupt(format!("backup_versions holds kind {kind:?}")))?,
                bytes: u64::try_from(bytes).map_err(|_| corrupt(format!("backup_versions holds size {bytes}")))?,
                at: Timestamp(at),
            })
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    Ok(BackupRecord {
        view: ViewId::parse_exact(&view).ok_or_else(|| corrupt(format!("backups holds view id {view:?}")))?,
        guild: ServerId::from_stored(server),
        tag: AuthTag(tag.try_into().map_err(|_| corrupt("backups holds a tag that is not 32 bytes".into()))?),
        filename,
        created_at: Timestamp(created_at),
        versions,
    })
}

fn insert_version(conn: &mut crate::AnyConnection, view: &str, version: &Version) -> Result<(), Failure> {
    let number = i32::try_from(version.number).map_err(|_| Error::invalid("version", "too many versions"))?;
    let bytes = i64::try_from(version.bytes).map_err(|_| Error::invalid("fileSize", "too large to record"))?;
    diesel::insert_into(backup_versions::table)
        .values((
            backup_versions::view_id.eq(view),
            backup_versions::number.eq(number),
            backup_versions::kind.eq(version.kind.as_str()),
            backup_versions::bytes.eq(bytes),
            backup_versions::created_at.eq(version.at.millis()),
        ))
        .execute(conn)?;
    Ok(())
}

const COLUMNS: (backups::view_id, backups::server_id, backups::auth_tag, backups::filename, backups::created_at) =
    (backups::view_id, backups::server_id, backups::auth_tag, backups::filename, backups::created_at);

impl BackupIndex for DieselBackupIndex {
    fn by_guild(&self, guild: ServerId) -> Result<Option<BackupRecord>> {
        self.db.read(|conn| {
            let rows =
                backups::table.filter(backups::server_id.eq(guild.get())).select(COLUMNS).load::<BackupRow>(conn)?;
            rows.into_iter().next().map(|row| record(conn, row)).transpose()
        })
    }

    fn by_view(&self, view: &ViewId) -> Result<Option<BackupRecord>> {
        let view = view.as_str().to_owned();
        self.db.read(|conn| {
            let rows = backups::table.filter(backups::view_id.eq(&view)).select(COLUMNS).load::<BackupRow>(conn)?;
            rows.into_iter().next().map(|row| record(conn, row)).transpose()
        })
    }

    fn create(&self, backup: &BackupRecord) -> Result<()> {
        let backup = backup.clone();
        self.db.write(move |conn| {
            let view = backup.view.as_str().to_owned();
            diesel::insert_into(backups::table)
                .values((
                    backups::view_id.eq(&view),
                    backups::server_id.eq(backup.guild.get()),
                    backups::auth_tag.eq(backup.tag.0.to_vec()),
                    backups::filename.eq(&backup.filename),
                    backups::created_at.eq(backup.created_at.millis()),
                ))
                .execute(conn)
                .map_err(|e| on_unique(e, || Error::BackupExists { guild: backup.guild }))?;
            for version in &backup.versions {
                insert_version(conn, &view, version)?;
            }
            Ok(())
        })
    }

    fn add_version(&self, view: &ViewId, version: &Version, drop: &[u32]) -> Result<bool> {
        let (view, version) = (view.as_str().to_owned(), version.clone());
        let drop: Vec<i32> = drop.iter().filter_map(|n| i32::try_from(*n).ok()).collect();
        self.db.write(move |conn| {
            let exists = backups::table.filter(backups::view_id.eq(&view)).count().get_result::<i64>(conn)? > 0;
            let number = i32::try_from(version.number).unwrap_or(i32::MAX);
            let taken = backup_versions::table
                .filter(backup_versions::view_id.eq(&view))
                .filter(backup_versions::number.eq(number))
                .count()
                .get_result::<i64>(conn)?
                > 0;
            if !exists || taken {
                return Ok(false);
            }
            insert_version(conn, &view, &version)?;
            diesel::delete(
                backup_versions::table
                    .filter(backup_versions::view_id.eq(&view))
                    .filter(backup_versions::number.eq_any(&drop)),
            )
            .execute(conn)?;
            Ok(true)
        })
    }

    fn delete(&self, view: &ViewId) -> Result<bool> {
        let view = view.as_str().to_owned();
        self.db.write(move |conn| {
            diesel::delete(backup_versions::table.filter(backup_versions::view_id.eq(&view))).execute(conn)?;
            Ok(diesel::delete(backups::table.filter(backups::view_id.eq(&view))).execute(conn)? > 0)
        })
    }
}

/// The servers granted premium features, one row each.
#[derive(Debug, Clone)]
pub struct DieselPremiumGrants {
    db: Database,
}

impl DieselPremiumGrants {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

impl PremiumGrants for DieselPremiumGrants {
    fn is_granted(&self, guild: ServerId) -> Result<bool> {
        self.db.read(|conn| {
            Ok(premium_servers::table
                .filter(premium_servers::server_id.eq(guild.get()))
                .count()
                .get_result::<i64>(conn)?
                > 0)
        })
    }

    fn grant(&self, guild: ServerId, at: Timestamp) -> Result<bool> {
        self.db.write(move |conn| {
            let added = crate::db::per_backend!(conn, |c| diesel::insert_into(premium_servers::table)
                .values((premium_servers::server_id.eq(guild.get()), premium_servers::granted_at.eq(at.millis())))
                .on_conflict_do_nothing()
                .execute(c))?;
            Ok(added > 0)
        })
    }

    fn revoke(&self, guild: ServerId) -> Result<bool> {
        self.db.write(move |conn| {
            Ok(diesel::delete(premium_servers::table.filter(premium_servers::server_id.eq(guild.get())))
                .execute(conn)?
                > 0)
        })
    }

    fn list(&self) -> Result<Vec<(ServerId, Timestamp)>> {
        self.db.read(|conn| {
            Ok(premium_servers::table
                .order(premium_servers::server_id)
                .select((premium_servers::server_id, premium_servers::granted_at))
                .load::<(i64, i64)>(conn)?
                .into_iter()
                .map(|(server, at)| (ServerId::from_stored(server), Timestamp(at)))
                .collect())
        })
    }
}
