//! `/api/certifications*`: the server's certification catalogue and members' certifications.

use actix_web::{delete, get, post, web};
use garrison_core::{
    Error, MemberKey,
    catalogue::{AwardedCertification, Certification, CertificationRef, Description, Name},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{Body, Caller, IdText, MemberQuery, Params, ServerQuery, member_key},
    medals::MessageResponse,
};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificationView {
    #[schema(example = "AFO")]
    reference: String,
    #[schema(example = "Authorised Firearms Officer")]
    name: String,
    #[schema(example = "Certified to use firearms in the field")]
    description: String,
    /// On a member's certifications: when it was awarded (milliseconds since the Unix epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    awarded_at: Option<i64>,
}

impl From<Certification> for CertificationView {
    fn from(c: Certification) -> Self {
        Self { reference: c.reference, name: c.name, description: c.description, awarded_at: None }
    }
}

impl From<AwardedCertification> for CertificationView {
    fn from(a: AwardedCertification) -> Self {
        Self { awarded_at: Some(a.awarded_at.millis()), ..a.certification.into() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CertificationsResponse {
    certifications: Vec<CertificationView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CertificationChangeResponse {
    success: bool,
    /// The certification created or deleted.
    certification: CertificationView,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckResponse {
    has_certification: bool,
}

/// Every certification configured for the server.
#[utoipa::path(tag = "Certifications", params(ServerQuery), responses(
    (status = 200, body = CertificationsResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/api/certifications")]
pub async fn list_certifications(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<ServerQuery>,
) -> Result<web::Json<CertificationsResponse>, ApiError> {
    let server = query.server()?;
    let list = caller.run(state, move |records, caller| records.certifications(caller, server)).await?;
    Ok(web::Json(CertificationsResponse { certifications: list.into_iter().map(Into::into).collect() }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateCertificationBody {
    #[schema(value_type = String)]
    server_id: IdText,
    /// 1..=32 of A-Z, 0-9, `_`, `-`; upper-cased.
    #[schema(example = "AFO")]
    reference: String,
    #[schema(example = "Authorised Firearms Officer")]
    name: String,
    #[serde(default)]
    description: String,
}

/// Add a certification to the catalogue; 409 if the reference is taken.
#[utoipa::path(tag = "Certifications", request_body = CreateCertificationBody, responses(
    (status = 200, body = CertificationChangeResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/api/certifications")]
pub async fn create_certification(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<CreateCertificationBody>,
) -> Result<web::Json<CertificationChangeResponse>, ApiError> {
    let body = body.0;
    let server = body.server_id.server("serverId")?;
    let reference = CertificationRef::parse(&body.reference)?;
    let name = Name::parse("name", &body.name)?;
    let description = Description::parse(&body.description)?;
    let created = caller
        .run_write(state, move |records, caller| {
            records.create_certification(caller, server, &reference, &name, &description)
        })
        .await?;
    Ok(web::Json(CertificationChangeResponse { success: true, certification: created.into() }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ReferenceQuery {
    #[param(value_type = String)]
    server_id: IdText,
    /// The certification's reference (any case).
    reference: String,
}

/// Remove a certification from the catalogue, and from every member who held it.
#[utoipa::path(tag = "Certifications", params(ReferenceQuery), responses(
    (status = 200, body = CertificationChangeResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/api/certifications")]
pub async fn delete_certification(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<ReferenceQuery>,
) -> Result<web::Json<CertificationChangeResponse>, ApiError> {
    let server = query.server_id.server("serverId")?;
    let reference = CertificationRef::parse(&query.reference)?;
    let deleted = caller
        .run_write(state, move |records, caller| records.delete_certification(caller, server, &reference))
        .await?;
    Ok(web::Json(CertificationChangeResponse { success: true, certification: deleted.into() }))
}

/// The certifications a member holds.
#[utoipa::path(tag = "Certifications", params(MemberQuery), responses(
    (status = 200, body = CertificationsResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/api/certifications/user")]
pub async fn member_certifications(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<MemberQuery>,
) -> Result<web::Json<CertificationsResponse>, ApiError> {
    let member = query.key()?;
    let list = caller.run(state, move |records, caller| records.member_certifications(caller, member)).await?;
    Ok(web::Json(CertificationsResponse { certifications: list.into_iter().map(Into::into).collect() }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct CheckQuery {
    #[param(value_type = String)]
    server_id: IdText,
    #[param(value_type = String)]
    roblox_id: IdText,
    reference: String,
}

/// Whether a member holds a certification; `false` also when the catalogue has no such reference.
#[utoipa::path(tag = "Certifications", params(CheckQuery), responses(
    (status = 200, body = CheckResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody)))]
#[get("/api/certifications/check")]
pub async fn check_certification(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<CheckQuery>,
) -> Result<web::Json<CheckResponse>, ApiError> {
    let member = member_key(&query.server_id, &query.roblox_id)?;
    let reference = CertificationRef::parse(&query.reference)?;
    let has_certification =
        caller.run(state, move |records, caller| records.has_certification(caller, member, &reference)).await?;
    Ok(web::Json(CheckResponse { has_certification }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificationAwardBody {
    #[schema(value_type = String)]
    server_id: IdText,
    #[schema(value_type = String)]
    roblox_id: IdText,
    #[schema(example = "AFO")]
    reference: String,
}

impl CertificationAwardBody {
    fn parse(&self) -> Result<(MemberKey, CertificationRef), Error> {
        Ok((member_key(&self.server_id, &self.roblox_id)?, CertificationRef::parse(&self.reference)?))
    }
}

/// Award a certification: "Awarded Authorised Firearms Officer (AFO) to 123456789."
#[utoipa::path(tag = "Certifications", request_body = CertificationAwardBody, responses(
    (status = 200, body = MessageResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/api/certifications/award")]
pub async fn award_certification(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<CertificationAwardBody>,
) -> Result<web::Json<MessageResponse>, ApiError> {
    let (member, reference) = body.0.parse()?;
    let message =
        caller.run_write(state, move |records, caller| records.award_certification(caller, member, &reference)).await?;
    Ok(MessageResponse::ok(message))
}

/// Revoke a certification: "Revoked AFO from 123456789."
#[utoipa::path(tag = "Certifications", request_body = CertificationAwardBody, responses(
    (status = 200, body = MessageResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/api/certifications/revoke")]
pub async fn revoke_certification(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<CertificationAwardBody>,
) -> Result<web::Json<MessageResponse>, ApiError> {
    let (member, reference) = body.0.parse()?;
    let message = caller
        .run_write(state, move |records, caller| records.revoke_certification(caller, member, &reference))
        .await?;
    Ok(MessageResponse::ok(message))
}
