//! Liveness and readiness.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::{AppState, error::ErrorBody, extract::blocking};

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    #[schema(example = "ok")]
    status: &'static str,
}

/// Liveness: the process is up and serving.
#[utoipa::path(tag = "Operations", security(()), responses((status = 200, body = HealthResponse)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<HealthResponse> {
    web::Json(HealthResponse { status: "ok" })
}

/// Readiness: the database answers. 503 when it does not.
#[utoipa::path(tag = "Operations", security(()), responses((status = 200, body = HealthResponse), (status = 503, body = ErrorBody)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let health = state.health.clone();
    match blocking(move || health.check()).await {
        Ok(()) => HttpResponse::Ok().json(HealthResponse { status: "ready" }),
        Err(_) => HttpResponse::ServiceUnavailable().json(ErrorBody { error: "Database unavailable.".into() }),
    }
}
