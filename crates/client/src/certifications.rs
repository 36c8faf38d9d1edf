//! Certifications (tag `Certifications`): the server's catalogue, by reference, and the members who
//! hold them.

use garrison_core::{RobloxUserId, ServerId};
use serde::{Deserialize, Serialize};

use crate::{Client, Operation, Result, answers::Message, ids};

/// The body of `POST /api/certifications`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCertification {
    #[serde(serialize_with = "ids::text")]
    pub server_id: ServerId,
    /// 1 to 32 of A-Z, 0-9, `_`, `-` (upper-cased by the server), e.g. `AFO`.
    pub reference: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The body of `POST /api/certifications/award` and `/revoke`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificationAward {
    #[serde(serialize_with = "ids::text")]
    pub server_id: ServerId,
    #[serde(serialize_with = "ids::text")]
    pub roblox_id: RobloxUserId,
    pub reference: String,
}

/// A certification of the catalogue, or held by a member.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Certification {
    pub reference: String,
    pub name: String,
    pub description: String,
    /// On a member's certifications: when it was awarded (milliseconds since the Unix epoch).
    #[serde(default)]
    pub awarded_at: Option<i64>,
}

#[derive(Deserialize)]
struct Certifications {
    certifications: Vec<Certification>,
}

#[derive(Deserialize)]
struct CertificationChange {
    certification: Certification,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Check {
    has_certification: bool,
}

/// The certification routes: [`Client::certifications`].
#[derive(Debug, Clone, Copy)]
pub struct CertificationsApi<'c>(&'c Client);

impl Client {
    /// The certification routes.
    pub fn certifications(&self) -> CertificationsApi<'_> {
        CertificationsApi(self)
    }
}

impl CertificationsApi<'_> {
    /// `GET /api/certifications`: the server's catalogue.
    pub async fn list(&self, server: ServerId) -> Result<Vec<Certification>> {
        let list: Certifications = self.0.call(Operation::ListCertifications).query("serverId", server).send().await?;
        Ok(list.certifications)
    }

    /// `POST /api/certifications`: adds one to the catalogue (409 when the reference is taken).
    pub async fn create(&self, certification: &NewCertification) -> Result<Certification> {
        let created: CertificationChange =
            self.0.call(Operation::CreateCertification).json(certification).send().await?;
        Ok(created.certification)
    }

    /// `DELETE /api/certifications`: removes one (by reference, any case) from the catalogue and from
    /// every member.
    pub async fn delete(&self, server: ServerId, reference: &str) -> Result<Certification> {
        let deleted: CertificationChange = self
            .0
            .call(Operation::DeleteCertification)
            .query("serverId", server)
            .query("reference", reference)
            .send()
            .await?;
        Ok(deleted.certification)
    }

    /// `POST /api/certifications/award`: the server's sentence, e.g. "Awarded Authorised Firearms
    /// Officer (AFO) to 123456789.".
    pub async fn award(&self, award: &CertificationAward) -> Result<String> {
        let answer: Message = self.0.call(Operation::AwardCertification).json(award).send().await?;
        Ok(answer.message)
    }

    /// `POST /api/certifications/revoke`: the server's sentence.
    pub async fn revoke(&self, award: &CertificationAward) -> Result<String> {
        let answer: Message = self.0.call(Operation::RevokeCertification).json(award).send().await?;
        Ok(answer.message)
    }

    /// `GET /api/certifications/check`: whether a member holds it (`false` also for a reference the
    /// catalogue does not have).
    pub async fn check(&self, server: ServerId, member: RobloxUserId, reference: &str) -> Result<bool> {
        let check: Check = self
            .0
            .call(Operation::CheckCertification)
            .query("serverId", server)
            .query("robloxId", member)
            .query("reference", reference)
            .send()
            .await?;
        Ok(check.has_certification)
    }

    /// `GET /api/certifications/user`: the certifications a member holds.
    pub async fn of_member(&self, server: ServerId, member: RobloxUserId) -> Result<Vec<Certification>> {
        let list: Certifications = self
            .0
            .call(Operation::MemberCertifications)
            .query("serverId", server)
            .query("robloxId", member)
            .send()
            .await?;
        Ok(list.certifications)
    }
}
