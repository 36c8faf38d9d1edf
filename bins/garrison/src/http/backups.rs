//! `/api/Backup/*`: a server's backup (made, read, listed, deleted) and its restore, as Noctra's "Bot"
//! routes have them, with versions, dry runs and restore jobs besides (docs/noctra.md).

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, delete, get, http::StatusCode, post, web};
use garrison_core::backups::{CreateRequest, Job, JobStatus, RestoreOutcome, RestoreRequest, human_size, plan::Mode};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::{
    AppState,
    error::ApiError,
    extract::Params,
    headers::{filename, header, server, token},
};

/// A yes/no header (the one rule of `looks::flag`); absent is no.
fn flag(req: &HttpRequest, name: &'static str) -> Result<bool, ApiError> {
    header(req, name).map_or(Ok(false), |text| {
        garrison_core::discord::looks::flag(name, text).map_err(|e| ApiError::bad_request(e.to_string()))
    })
}

/// Captures the guild (settings, roles, channels, AutoMod, onboarding, bans, emojis and stickers with
/// their images, and members' roles when asked) as a new backup, or, with the backup's `X-Auth-Key`,
/// as its next version. One backup per guild; the key is shown once.
#[utoipa::path(tag = "Backups", params(
    ("X-Bot-Token" = String, Header, description = "a bot of the guild that may read what is kept"),
    ("X-Guild-Id" = String, Header),
    ("X-Auth-Key" = Option<String>, Header, description = "the backup's key, to add a version to it"),
    ("X-Filename" = Option<String>, Header, description = "a name for downloads"),
    ("X-Include-Members" = Option<bool>, Header, description = "also keep each member's roles"),
), responses(
    (status = 200, description = "`{\"status\":\"New backup created successfully\",\"viewId\":\"...\",\"authKey\":\"...\",\"fileSize\":\"2.5 MB\",\"version\":1,\"warnings\":[]}` (or `\"Backup updated successfully\"`)"),
    (status = 400), (status = 401), (status = 403, description = "`{\"error\":\"Backups are a premium feature.\"}`"),
    (status = 404, description = "`{\"error\":\"Backup not found or invalid key\"}`: the key does not open the guild's backup"),
    (status = 409, description = "the guild already has a backup (send its X-Auth-Key to update it)"),
    (status = 413, description = "`{\"error\":\"Backup too large (> 100 MB)\"}`"),
    (status = 429, description = "too many wrong keys"), (status = 502), (status = 503)))]
#[post("/api/Backup")]
pub async fn create(state: web::Data<AppState>, req: HttpRequest) -> Result<web::Json<Value>, ApiError> {
    let request = CreateRequest {
        token: token(&req, "X-Bot-Token")?,
        guild: server(&req, "X-Guild-Id")?,
        key: header(&req, "X-Auth-Key").map(str::to_owned),
        filename: filename(header(&req, "X-Filename"), ".json")?,
        members: flag(&req, "X-Include-Members")?,
    };
    let made = state.backups.create(&request).await?;
    Ok(web::Json(json!({
        "status": if made.updated { "Backup updated successfully" } else { "New backup created successfully" },
        "viewId": made.view.as_str(),
        "authKey": made.key.expose(),
        "fileSize": human_size(made.bytes),
        "bytes": made.bytes,
        "imageBytes": made.image_bytes,
        "version": made.version,
        "warnings": made.warnings,
    })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ViewQuery {
    /// A version to download (any kind, snapshots included); the newest backup by default.
    version: Option<u32>,
}

/// The backup's JSON as a download, streamed from object storage.
#[utoipa::path(tag = "Backups", params(("viewId" = String, Path), ("X-Auth-Key" = String, Header), ViewQuery),
    responses((status = 200, content_type = "application/json", description = "the backup (docs/backup-format.md), `Content-Disposition: attachment`"),
    (status = 403, description = "`{\"error\":\"Backups are a premium feature.\"}`"),
    (status = 404, description = "`{\"error\":\"Backup not found or invalid key\"}`, or no such version"),
    (status = 429, description = "too many wrong keys for this backup")))]
#[get("/api/Backup/view/{viewId}")]
pub async fn view(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: Params<ViewQuery>,
) -> Result<HttpResponse, ApiError> {
    let (record, version, body) = state.backups.open(&path, header(&req, "X-Auth-Key"), query.version).await?;
    let name = record.filename.unwrap_or_else(|| format!("backup-{}.json", record.guild));
    let name = if version.number == garrison_core::backups::current_version(&record.versions).map_or(0, |v| v.number) {
        name
    } else {
        format!("{}-v{}.json", name.trim_end_matches(".json"), version.number)
    };
    let stream = futures_util::StreamExt::map(body.bytes, |chunk| {
        chunk.map_err(|e| actix_web::error::ErrorServiceUnavailable(e.to_string()))
    });
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}\"")))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("X-Backup-Version", version.number.to_string()))
        .streaming(stream))
}

/// The backup's versions, oldest first: made by `POST /api/Backup` (`backup`) or kept before a
/// restore changed the guild (`snapshot`).
#[utoipa::path(tag = "Backups", params(("viewId" = String, Path), ("X-Auth-Key" = String, Header)),
    responses((status = 200, description = "`{\"viewId\":\"...\",\"guildId\":\"...\",\"current\":3,\"versions\":[{\"version\":3,\"kind\":\"backup\",\"createdAt\":\"2026-12-06T10:00:00Z\",\"bytes\":2500000,\"fileSize\":\"2.5 MB\"}]}`"),
    (status = 404, description = "`{\"error\":\"Backup not found or invalid key\"}`"), (status = 429)))]
#[get("/api/Backup/versions/{viewId}")]
pub async fn versions(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<web::Json<Value>, ApiError> {
    let record = state.backups.versions(&path, header(&req, "X-Auth-Key"))?;
    let current = garrison_core::backups::current_version(&record.versions).map(|v| v.number);
    let versions: Vec<Value> = record
        .versions
        .iter()
        .map(|v| {
            json!({
                "version": v.number,
                "kind": v.kind.as_str(),
                "createdAt": v.at.to_iso8601(),
                "bytes": v.bytes,
                "fileSize": human_size(v.bytes),
            })
        })
        .collect();
    Ok(web::Json(json!({
        "viewId": record.view.as_str(),
        "guildId": record.guild.to_string(),
        "createdAt": record.created_at.to_iso8601(),
        "current": current,
        "versions": versions,
    })))
}

/// Deletes the backup: every version and every image it kept.
#[utoipa::path(tag = "Backups", params(("viewId" = String, Path), ("X-Auth-Key" = String, Header)),
    responses((status = 200, description = "`{\"status\":\"Deleted\"}`"),
    (status = 404, description = "`{\"error\":\"Backup not found or invalid key\"}`"), (status = 429)))]
#[delete("/api/Backup/{viewId}")]
pub async fn remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<web::Json<Value>, ApiError> {
    state.backups.delete(&path, header(&req, "X-Auth-Key")).await?;
    Ok(web::Json(json!({ "status": "Deleted" })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct RestoreQuery {
    /// Must be `true` to restore (not needed for a dry run).
    force: Option<bool>,
    /// Answer the plan without changing anything.
    dry_run: Option<bool>,
    /// `reconcile` (default: keep what still exists, update it in place, create what is missing,
    /// delete what the backup lacks) or `wipe` (delete everything, then recreate).
    mode: Option<String>,
    /// A version to restore (any kind: a snapshot undoes a restore); the newest backup by default.
    version: Option<u32>,
}

/// The most operations a dry run lists.
const DRY_RUN_LINES: usize = 1000;

fn job_json(job: &Job) -> Value {
    json!({
        "jobId": job.id.as_str(),
        "status": job.status.as_str(),
        "guildId": job.target.to_string(),
        "step": job.step.map(|s| s.name()),
        "done": job.done,
        "total": job.total,
        "failed": job.failed,
        "report": job.report(),
        "snapshotVersion": job.snapshot,
        "resumed": job.resumed,
        "startedAt": job.started_at.to_iso8601(),
        "finishedAt": job.finished_at.map(|t| t.to_iso8601()),
    })
}

/// Restores the backup into its guild (or `X-Guild-Id`'s). Reconciles by default: what still exists
/// is kept and updated in place. A snapshot of the guild is kept first as a version, so a restore can
/// be undone with `?version=`. Answers the report when done within a minute, else 202 with a job.
#[utoipa::path(tag = "Backups", params(
    ("viewId" = String, Path), ("X-Auth-Key" = String, Header),
    ("X-Bot-Token" = String, Header, description = "a bot with Administrator in the target guild"),
    ("X-Guild-Id" = Option<String>, Header, description = "restore into this guild instead (migration)"),
    RestoreQuery,
), responses(
    (status = 200, description = "`{\"status\":\"Restore sequence finished\",\"report\":[\"Roles restored (2 created, 1 updated, 0 deleted)\",\"Channels restored (...)\"],\"jobId\":\"...\",\"snapshotVersion\":4}`, or a dry run's `{\"status\":\"Dry run\",\"plan\":{...},\"operations\":[...],\"operationsNotListed\":0}` (the first 1,000 operations)"),
    (status = 202, description = "still running: `{\"status\":\"Restore running\",\"jobId\":\"...\"}`; follow `GET /api/Backup/restore/jobs/{id}`"),
    (status = 400, description = "`{\"error\":\"Append ?force=true to confirm.\"}`"),
    (status = 403, description = "not premium, or the bot is not an administrator of the target guild"),
    (status = 404, description = "`{\"error\":\"Backup not found or invalid key\"}`"),
    (status = 409, description = "a restore into this guild is running"),
    (status = 429, description = "`{\"error\":\"Cooldown active.\",\"retryAfterSeconds\":180}`, or too many wrong keys"),
    (status = 502), (status = 503)))]
#[post("/api/Backup/restore/{viewId}")]
pub async fn restore(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: Params<RestoreQuery>,
) -> Result<HttpResponse, ApiError> {
    let mode = match query.mode.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("reconcile") => Mode::Reconcile,
        Some("wipe") => Mode::Wipe,
        Some(other) => return Err(ApiError::bad_request(format!("mode: must be reconcile or wipe, got {other:?}"))),
    };
    let request = RestoreRequest {
        view: path.into_inner(),
        key: header(&req, "X-Auth-Key").map(str::to_owned),
        token: token(&req, "X-Bot-Token")?,
        target: header(&req, "X-Guild-Id").map(|_| server(&req, "X-Guild-Id")).transpose()?,
        force: query.force.unwrap_or(false),
        dry_run: query.dry_run.unwrap_or(false),
        mode,
        version: query.version,
    };
    match state.backups.restore(&request).await? {
        RestoreOutcome::DryRun(dry) => {
            let counts = dry.plan.counts();
            // A guild with many members' roles to set plans one operation per member: the list stops at
            // a thousand lines, and says how many it left out.
            let operations: Vec<String> = dry.plan.ops.iter().take(DRY_RUN_LINES).map(|op| op.describe()).collect();
            Ok(HttpResponse::Ok().json(json!({
                "status": "Dry run",
                "guildId": dry.target.to_string(),
                "version": dry.version,
                "plan": counts,
                "operations": operations,
                "operationsNotListed": dry.plan.ops.len().saturating_sub(DRY_RUN_LINES),
                "skipped": dry.plan.skipped,
            })))
        }
        RestoreOutcome::Started(started) => {
            let handle = tokio::spawn(started.run);
            let wait = Duration::from_millis(state.backups.answer_within_ms());
            let finished = tokio::time::timeout(wait, handle).await.is_ok();
            let job = state.backups.job(started.job.as_str())?;
            if finished && job.status == JobStatus::Finished {
                let mut body = job_json(&job);
                body["status"] = json!("Restore sequence finished");
                Ok(HttpResponse::Ok().json(body))
            } else {
                let location = format!("/api/Backup/restore/jobs/{}", job.id.as_str());
                let mut body = job_json(&job);
                body["status"] = json!("Restore running");
                body["statusUrl"] = json!(location);
                Ok(HttpResponse::build(StatusCode::ACCEPTED).insert_header(("Location", location)).json(body))
            }
        }
    }
}

/// A restore job's progress and, once finished, its report. The job id is the capability: it is
/// handed only to whoever started the restore.
#[utoipa::path(tag = "Backups", params(("jobId" = String, Path)),
    responses((status = 200, description = "`{\"jobId\":\"...\",\"status\":\"running\",\"step\":\"Channels\",\"done\":120,\"total\":530,\"failed\":0,\"resumed\":0,\"report\":[...]}` (`resumed`: how often the job was taken up again after its server died)"),
    (status = 404, description = "`{\"error\":\"No restore job has this id.\"}`")))]
#[get("/api/Backup/restore/jobs/{jobId}")]
pub async fn restore_job(state: web::Data<AppState>, path: web::Path<String>) -> Result<web::Json<Value>, ApiError> {
    Ok(web::Json(job_json(&state.backups.job(&path)?)))
}
