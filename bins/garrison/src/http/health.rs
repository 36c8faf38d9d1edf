//! Liveness and readiness.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use garrison_core::operations::Unready;

use super::{AppState, error::ErrorBody};

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    #[schema(example = "ok")]
    status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyResponse {
    #[schema(example = "ready")]
    status: &'static str,
    writer: WriterReport,
}

/// How the database writer has fared since start-up (SQLite; always zeros on PostgreSQL).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WriterReport {
    /// Restarts after a failure outside any one write.
    restarts: u64,
    /// Writes that panicked: each was rolled back alone and answered 500.
    panicked_writes: u64,
}

/// Liveness: the process is up and serving.
#[utoipa::path(tag = "Operations", security(()), responses((status = 200, body = HealthResponse)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<HealthResponse> {
    web::Json(HealthResponse { status: "ok" })
}

/// Readiness: the database answers reads, and (SQLite) its writer is running and takes a job within
/// 2 seconds. 503 when not; a writer that stopped for good says so.
#[utoipa::path(tag = "Operations", security(()), responses((status = 200, body = ReadyResponse), (status = 503, body = ErrorBody)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match web::block(move || state.operations.readiness()).await {
        Ok(Ok(report)) => HttpResponse::Ok().json(ReadyResponse {
            status: "ready",
            writer: WriterReport { restarts: report.writer_restarts, panicked_writes: report.panicked_writes },
        }),
        Ok(Err(Unready::WriterStopped)) => HttpResponse::ServiceUnavailable().json(ErrorBody {
            error: "Database unavailable: the writer has stopped after repeated failures; restart the process.".into(),
        }),
        Ok(Err(Unready::StoreUnavailable)) | Err(_) => {
            HttpResponse::ServiceUnavailable().json(ErrorBody { error: "Database unavailable.".into() })
        }
    }
}
