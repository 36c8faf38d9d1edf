//! `/api/medals*`: the server's medal catalogue and members' medals.

use actix_web::{delete, get, post, web};
use garrison_core::{
    Error, MemberKey,
    catalogue::{AwardedMedal, Description, Medal, Name},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{Body, Caller, IdText, MemberQuery, Params, ServerQuery, member_key},
};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MedalView {
    #[schema(example = "Purple Heart")]
    name: String,
    description: String,
    /// On a member's medals: when it was awarded (milliseconds since the Unix epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    awarded_at: Option<i64>,
}

impl From<Medal> for MedalView {
    fn from(m: Medal) -> Self {
        Self { name: m.name, description: m.description, awarded_at: None }
    }
}

impl From<AwardedMedal> for MedalView {
    fn from(a: AwardedMedal) -> Self {
        Self { awarded_at: Some(a.awarded_at.millis()), ..a.medal.into() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MedalsResponse {
    medals: Vec<MedalView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MedalChangeResponse {
    success: bool,
    /// The medal created or deleted.
    medal: MedalView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    success: bool,
    #[schema(example = "Awarded Purple Heart to 123456789.")]
    message: String,
}

impl MessageResponse {
    pub fn ok(message: String) -> web::Json<Self> {
        web::Json(Self { success: true, message })
    }
}

/// Every medal in the server's catalogue.
#[utoipa::path(tag = "Medals", params(ServerQuery), responses(
    (status = 200, body = MedalsResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/api/medals")]
pub async fn list_medals(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<ServerQuery>,
) -> Result<web::Json<MedalsResponse>, ApiError> {
    let server = query.server()?;
    let medals = caller.run(state, move |records, caller| records.medals(caller, server)).await?;
    Ok(web::Json(MedalsResponse { medals: medals.into_iter().map(Into::into).collect() }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateMedalBody {
    #[schema(value_type = String)]
    server_id: IdText,
    /// 1..=100 characters, unique in the server ignoring case.
    #[schema(example = "Purple Heart")]
    name: String,
    /// At most 1000 characters.
    #[serde(default)]
    description: String,
}

/// Add a medal to the catalogue; 409 if the name is taken.
#[utoipa::path(tag = "Medals", request_body = CreateMedalBody, responses(
    (status = 200, body = MedalChangeResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/api/medals")]
pub async fn create_medal(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<CreateMedalBody>,
) -> Result<web::Json<MedalChangeResponse>, ApiError> {
    let server = body.0.server_id.server("serverId")?;
    let name = Name::parse("name", &body.0.name)?;
    let description = Description::parse(&body.0.description)?;
    let medal = caller
        .run_write(state, move |records, caller| records.create_medal(caller, server, &name, &description))
        .await?;
    Ok(web::Json(MedalChangeResponse { success: true, medal: medal.into() }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DeleteMedalQuery {
    #[param(value_type = String)]
    server_id: IdText,
    /// The medal's name (any case).
    name: String,
}

/// Remove a medal from the catalogue, and from every member who held it.
#[utoipa::path(tag = "Medals", params(DeleteMedalQuery), responses(
    (status = 200, body = MedalChangeResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/api/medals")]
pub async fn delete_medal(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<DeleteMedalQuery>,
) -> Result<web::Json<MedalChangeResponse>, ApiError> {
    let server = query.server_id.server("serverId")?;
    let name = Name::parse("name", &query.name)?;
    let medal = caller.run_write(state, move |records, caller| records.delete_medal(caller, server, &name)).await?;
    Ok(web::Json(MedalChangeResponse { success: true, medal: medal.into() }))
}

/// The medals a member holds.
#[utoipa::path(tag = "Medals", params(MemberQuery), responses(
    (status = 200, body = MedalsResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/api/medals/user")]
pub async fn member_medals(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<MemberQuery>,
) -> Result<web::Json<MedalsResponse>, ApiError> {
    let member = query.key()?;
    let medals = caller.run(state, move |records, caller| records.member_medals(caller, member)).await?;
    Ok(web::Json(MedalsResponse { medals: medals.into_iter().map(Into::into).collect() }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MedalAwardBody {
    #[schema(value_type = String)]
    server_id: IdText,
    #[schema(value_type = String)]
    roblox_id: IdText,
    #[schema(example = "Purple Heart")]
    medal_name: String,
}

impl MedalAwardBody {
    fn parse(&self) -> Result<(MemberKey, Name), Error> {
        Ok((member_key(&self.server_id, &self.roblox_id)?, Name::parse("medalName", &self.medal_name)?))
    }
}

/// Award a medal; 404 if it is not in the catalogue, 409 if already held.
#[utoipa::path(tag = "Medals", request_body = MedalAwardBody, responses(
    (status = 200, body = MessageResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/api/medals/award")]
pub async fn award_medal(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<MedalAwardBody>,
) -> Result<web::Json<MessageResponse>, ApiError> {
    let (member, name) = body.0.parse()?;
    let message = caller.run_write(state, move |records, caller| records.award_medal(caller, member, &name)).await?;
    Ok(MessageResponse::ok(message))
}

/// Revoke a medal; 404 if unknown or not held.
#[utoipa::path(tag = "Medals", request_body = MedalAwardBody, responses(
    (status = 200, body = MessageResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/api/medals/revoke")]
pub async fn revoke_medal(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<MedalAwardBody>,
) -> Result<web::Json<MessageResponse>, ApiError> {
    let (member, name) = body.0.parse()?;
    let message = caller.run_write(state, move |records, caller| records.revoke_medal(caller, member, &name)).await?;
    Ok(MessageResponse::ok(message))
}
