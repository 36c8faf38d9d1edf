//! Open Cloud users: a user's profile and avatar thumbnails.

use serde_json::{Value, json};

use super::{Call, Reply, parse_id};
use crate::error::ApiError;
use crate::thumbnail::{SIZES, Shape, ThumbnailFormat};
use crate::world::{UserView, World};

fn find_user<'w>(world: &'w World, call: &Call) -> Result<&'w UserView, ApiError> {
    let id = parse_id(call.param("user_id"), "user")?;
    world.user(id).ok_or_else(|| ApiError::not_found("User not found."))
}

/// `GET /cloud/v2/users/{user_id}`: public information; `idVerified` with the `user.advanced:read`
/// scope and `socialNetworkProfiles` with `user.social:read`.
pub(super) fn get_user(world: &mut World, call: &Call) -> Result<Reply, ApiError> {
    let user = find_user(world, call)?;
    let key = call.key()?;
    let mut body = json!({
        "path": format!("users/{}", user.id),
        "createTime": user.created.rfc3339(),
        "id": user.id.to_string(),
        "name": user.name,
        "displayName": user.display_name,
        "about": user.description,
        "locale": user.locale,
        "premium": user.premium,
    });
    if let Some(object) = body.as_object_mut() {
        if key.has_scope("user.advanced:read") {
            object.insert("idVerified".to_owned(), user.id_verified.into());
        }
        if key.has_scope("user.social:read") {
            object.insert("socialNetworkProfiles".to_owned(), json!({"visibility": "NO_ONE"}));
        }
    }
    Ok(Reply::ok(body))
}

/// `GET /cloud/v2/users/{user_id}:generateThumbnail?size=&format=&shape=`: a finished long-running
/// operation whose `imageUri` is an image the simulator serves itself (`/sim/thumbnails/...`).
pub(super) fn generate_thumbnail(world: &mut World, call: &Call) -> Result<Reply, ApiError> {
    let size = match call.query("size").filter(|s| !s.is_empty()) {
        None => 420,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|size| SIZES.contains(size))
            .ok_or_else(|| ApiError::invalid(format!("Invalid size {text:?}: one of {SIZES:?}.")))?,
    };
    let format = match call.query("format").unwrap_or_default() {
        "" | "FORMAT_UNSPECIFIED" | "PNG" => ThumbnailFormat::Png,
        "JPEG" => ThumbnailFormat::Jpeg,
        other => return Err(ApiError::invalid(format!("Invalid format {other:?}."))),
    };
    let shape = match call.query("shape").unwrap_or_default() {
        "" | "SHAPE_UNSPECIFIED" | "ROUND" => Shape::Round,
        "SQUARE" => Shape::Square,
        other => return Err(ApiError::invalid(format!("Invalid shape {other:?}."))),
    };
    let user = find_user(world, call)?.id;
    let operation = world.random_secret(12);
    let image = format!("{}{}", call.base_url, crate::thumbnail::path(user, size, shape, format));
    Ok(Reply::ok(json!({
        "path": format!("users/{user}/operations/{operation}"),
        "done": true,
        "response": {
            "@type": "apis.roblox.com/roblox.open_cloud.cloud.v2.GenerateUserThumbnailResponse",
            "imageUri": Value::from(image),
        },
    })))
}
