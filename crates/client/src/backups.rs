//! Server backups (tag `Backups`): capture a guild, list and download its versions, restore it (or
//! into another guild). A backup is reached by its view id and its auth key, shown once when it is
//! made; a restore job by its job id. Backups and reports are large and free-form, so every answer
//! here is `serde_json::Value`.

use std::fmt;

use garrison_core::ServerId;
use garrison_core::backups::AuthKey;
use garrison_core::discord::BotToken;
use serde_json::Value;

use crate::{Client, Operation, Result};

/// How `POST /api/Backup` captures a guild.
#[derive(Debug, Clone, Default)]
pub struct BackupOptions {
    /// The backup's key, to add a version to an existing backup.
    pub auth_key: Option<AuthKey>,
    /// A name for downloads.
    pub filename: Option<String>,
    /// Also keep each member's roles.
    pub include_members: Option<bool>,
}

/// How a restore treats what the guild has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum RestoreMode {
    /// Keep what still exists and update it in place, create what is missing, delete what the backup
    /// lacks.
    #[default]
    Reconcile,
    /// Delete everything, then recreate.
    Wipe,
}

impl fmt::Display for RestoreMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RestoreMode::Reconcile => "reconcile",
            RestoreMode::Wipe => "wipe",
        })
    }
}

/// How `POST /api/Backup/restore/{viewId}` restores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestoreOptions {
    /// Restore into this guild instead of the backup's own (a migration).
    pub into: Option<ServerId>,
    /// Must be `true` to restore (not for a dry run).
    pub force: bool,
    /// Answer the plan without changing anything.
    pub dry_run: bool,
    pub mode: Option<RestoreMode>,
    /// A version to restore (a snapshot undoes a restore); the newest backup by default.
    pub version: Option<u32>,
}

/// The backup routes: [`Client::backups`].
#[derive(Debug, Clone, Copy)]
pub struct BackupsApi<'c>(&'c Client);

impl Client {
    /// The backup routes.
    pub fn backups(&self) -> BackupsApi<'_> {
        BackupsApi(self)
    }
}

impl BackupsApi<'_> {
    /// `POST /api/Backup`: captures the guild as a new backup, or a new version of the one
    /// `auth_key` opens; the answer holds the view id and auth key.
    pub async fn create(&self, bot: &BotToken, server: ServerId, options: &BackupOptions) -> Result<Value> {
        let call = self
            .0
            .call(Operation::CreateBackup)
            .bot_token(bot)
            .header("X-Guild-Id", server)
            .header_opt("X-Filename", options.filename.as_deref())
            .header_opt("X-Include-Members", options.include_members);
        let call = match &options.auth_key {
            Some(key) => call.secret_header("X-Auth-Key", key.expose()),
            None => call,
        };
        call.send().await
    }

    /// `POST /api/Backup/restore/{viewId}`: restores (a snapshot of the guild is kept first). The
    /// answer is the report (200), or the running job to follow with [`BackupsApi::restore_job`]
    /// (202).
    pub async fn restore(
        &self,
        bot: &BotToken,
        view_id: &str,
        auth_key: &AuthKey,
        options: &RestoreOptions,
    ) -> Result<Value> {
        self.0
            .call(Operation::RestoreBackup)
            .bot_token(bot)
            .path("viewId", view_id)
            .secret_header("X-Auth-Key", auth_key.expose())
            .header_opt("X-Guild-Id", options.into)
            .query_opt("force", options.force.then_some(true))
            .query_opt("dryRun", options.dry_run.then_some(true))
            .query_opt("mode", options.mode)
            .query_opt("version", options.version)
            .send()
            .await
    }

    /// `GET /api/Backup/restore/jobs/{jobId}`: a restore job's progress and, once finished, its
    /// report.
    pub async fn restore_job(&self, job_id: &str) -> Result<Value> {
        self.0.call(Operation::RestoreJob).path("jobId", job_id).send().await
    }

    /// `GET /api/Backup/versions/{viewId}`: the backup's versions, oldest first.
    pub async fn versions(&self, view_id: &str, auth_key: &AuthKey) -> Result<Value> {
        self.0
            .call(Operation::BackupVersions)
            .path("viewId", view_id)
            .secret_header("X-Auth-Key", auth_key.expose())
            .send()
            .await
    }

    /// `GET /api/Backup/view/{viewId}`: the backup's JSON (a version of it; the newest by default).
    pub async fn view(&self, view_id: &str, auth_key: &AuthKey, version: Option<u32>) -> Result<Value> {
        self.0
            .call(Operation::ViewBackup)
            .path("viewId", view_id)
            .secret_header("X-Auth-Key", auth_key.expose())
            .query_opt("version", version)
            .send()
            .await
    }

    /// `DELETE /api/Backup/{viewId}`: deletes the backup, every version and every image it kept.
    pub async fn delete(&self, view_id: &str, auth_key: &AuthKey) -> Result<Value> {
        self.0
            .call(Operation::DeleteBackup)
            .path("viewId", view_id)
            .secret_header("X-Auth-Key", auth_key.expose())
            .send()
            .await
    }
}
