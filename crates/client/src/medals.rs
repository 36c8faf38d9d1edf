//! Medals (tag `Medals`): the server's catalogue and the members who hold them.

use garrison_core::{RobloxUserId, ServerId};
use serde::{Deserialize, Serialize};

use crate::{Client, Operation, Result, answers::Message, ids};

/// The body of `POST /api/medals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewMedal {
    #[serde(serialize_with = "ids::text")]
    pub server_id: ServerId,
    /// 1 to 100 characters, unique in the server ignoring case.
    pub name: String,
    /// At most 1,000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The body of `POST /api/medals/award` and `/revoke`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MedalAward {
    #[serde(serialize_with = "ids::text")]
    pub server_id: ServerId,
    #[serde(serialize_with = "ids::text")]
    pub roblox_id: RobloxUserId,
    pub medal_name: String,
}

/// A medal of the catalogue, or held by a member.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Medal {
    pub name: String,
    pub description: String,
    /// On a member's medals: when it was awarded (milliseconds since the Unix epoch).
    #[serde(default)]
    pub awarded_at: Option<i64>,
}

#[derive(Deserialize)]
struct Medals {
    medals: Vec<Medal>,
}

#[derive(Deserialize)]
struct MedalChange {
    medal: Medal,
}

/// The medal routes: [`Client::medals`].
#[derive(Debug, Clone, Copy)]
pub struct MedalsApi<'c>(&'c Client);

impl Client {
    /// The medal routes.
    pub fn medals(&self) -> MedalsApi<'_> {
        MedalsApi(self)
    }
}

impl MedalsApi<'_> {
    /// `GET /api/medals`: the server's catalogue.
    pub async fn list(&self, server: ServerId) -> Result<Vec<Medal>> {
        let medals: Medals = self.0.call(Operation::ListMedals).query("serverId", server).send().await?;
        Ok(medals.medals)
    }

    /// `POST /api/medals`: adds a medal to the catalogue (409 when the name is taken).
    pub async fn create(&self, medal: &NewMedal) -> Result<Medal> {
        let created: MedalChange = self.0.call(Operation::CreateMedal).json(medal).send().await?;
        Ok(created.medal)
    }

    /// `DELETE /api/medals`: removes a medal (any case) from the catalogue and from every member.
    pub async fn delete(&self, server: ServerId, name: &str) -> Result<Medal> {
        let deleted: MedalChange =
            self.0.call(Operation::DeleteMedal).query("serverId", server).query("name", name).send().await?;
        Ok(deleted.medal)
    }

    /// `POST /api/medals/award`: the server's sentence, e.g. "Awarded Purple Heart to 123456789.".
    pub async fn award(&self, award: &MedalAward) -> Result<String> {
        let answer: Message = self.0.call(Operation::AwardMedal).json(award).send().await?;
        Ok(answer.message)
    }

    /// `POST /api/medals/revoke`: the server's sentence.
    pub async fn revoke(&self, award: &MedalAward) -> Result<String> {
        let answer: Message = self.0.call(Operation::RevokeMedal).json(award).send().await?;
        Ok(answer.message)
    }

    /// `GET /api/medals/user`: the medals a member holds.
    pub async fn of_member(&self, server: ServerId, member: RobloxUserId) -> Result<Vec<Medal>> {
        let medals: Medals =
            self.0.call(Operation::MemberMedals).query("serverId", server).query("robloxId", member).send().await?;
        Ok(medals.medals)
    }
}
