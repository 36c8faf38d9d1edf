use diesel::prelude::*;
use garrison_core::{
    Error, MemberKey, Result, ServerId, Timestamp,
    catalogue::{AwardedCertification, Certification, CertificationRef, Description, Name},
    ports::Certifications,
};

use crate::{
    Database,
    db::AnyConnection,
    failure::{Failure, on_unique},
    schema::{certification_awards, certifications},
};

/// The certification catalogue (unique by upper-cased reference per server) and its awards.
#[derive(Debug, Clone)]
pub struct DieselCertifications {
    db: Database,
}

impl DieselCertifications {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

fn find(
    conn: &mut AnyConnection,
    server: ServerId,
    reference: &CertificationRef,
) -> Result<(i64, Certification), Failure> {
    certifications::table
        .filter(certifications::server_id.eq(server.get()))
        .filter(certifications::reference.eq(reference.as_str()))
        .select((certifications::id, certifications::reference, certifications::name, certifications::description))
        .load::<(i64, String, String, String)>(conn)?
        .into_iter()
        .next()
        .map(|(id, reference, name, description)| (id, Certification { reference, name, description }))
        .ok_or_else(|| Error::UnknownCertification { reference: reference.as_str().to_owned() }.into())
}

impl Certifications for DieselCertifications {
    fn catalogue(&self, server: ServerId) -> Result<Vec<Certification>> {
        self.db.read(|conn| {
            let rows = certifications::table
                .filter(certifications::server_id.eq(server.get()))
                .order(certifications::reference.asc())
                .select((certifications::reference, certifications::name, certifications::description))
                .load::<(String, String, String)>(conn)?;
            Ok(rows
                .into_iter()
                .map(|(reference, name, description)| Certification { reference, name, description })
                .collect())
        })
    }

    fn create(
        &self,
        server: ServerId,
        reference: &CertificationRef,
        name: &Name,
        description: &Description,
        at: Timestamp,
    ) -> Result<Certification> {
        let (reference, name, description) = (reference.clone(), name.clone(), description.clone());
        self.db.write(move |conn| {
            diesel::insert_into(certifications::table)
                .values((
                    certifications::server_id.eq(server.get()),
                    certifications::reference.eq(reference.as_str()),
                    certifications::name.eq(name.as_str()),
                    certifications::description.eq(description.as_str()),
                    certifications::created_at.eq(at.millis()),
                ))
                .execute(conn)
                .map_err(|e| {
                    on_unique(e, || Error::CertificationExists { reference: reference.as_str().to_owned() })
                })?;
            Ok(Certification {
                reference: reference.as_str().to_owned(),
                name: name.as_str().to_owned(),
                description: description.as_str().to_owned(),
            })
        })
    }

    fn delete(&self, server: ServerId, reference: &CertificationRef) -> Result<Certification> {
        let reference = reference.clone();
        self.db.write(move |conn| {
            let (id, certification) = find(conn, server, &reference)?;
            diesel::delete(certification_awards::table.filter(certification_awards::certification_id.eq(id)))
                .execute(conn)?;
            diesel::delete(certifications::table.filter(certifications::id.eq(id))).execute(conn)?;
            Ok(certification)
        })
    }

    fn held(&self, member: MemberKey) -> Result<Vec<AwardedCertification>> {
        self.db.read(|conn| {
            let rows = certification_awards::table
                .inner_join(certifications::table)
                .filter(certifications::server_id.eq(member.server.get()))
                .filter(certification_awards::roblox_id.eq(member.member.get()))
                .order(certifications::reference.asc())
                .select((
                    certifications::reference,
                    certifications::name,
                    certifications::description,
                    certification_awards::awarded_at,
                ))
                .load::<(String, String, String, i64)>(conn)?;
            Ok(rows
                .into_iter()
                .map(|(reference, name, description, at)| AwardedCertification {
                    certification: Certification { reference, name, description },
                    awarded_at: Timestamp(at),
                })
                .collect())
        })
    }

    fn award(&self, member: MemberKey, reference: &CertificationRef, at: Timestamp) -> Result<Certification> {
        let reference = reference.clone();
        self.db.write(move |conn| {
            let (id, certification) = find(conn, member.server, &reference)?;
            diesel::insert_into(certification_awards::table)
                .values((
                    certification_awards::certification_id.eq(id),
                    certification_awards::roblox_id.eq(member.member.get()),
                    certification_awards::awarded_at.eq(at.millis()),
                ))
                .execute(conn)
                .map_err(|e| {
                    on_unique(e, || Error::CertificationAlreadyAwarded {
                        member: member.member,
                        reference: certification.reference.clone(),
                    })
                })?;
            Ok(certification)
        })
    }

    fn revoke(&self, member: MemberKey, reference: &CertificationRef) -> Result<Certification> {
        let reference = reference.clone();
        self.db.write(move |conn| {
            let (id, certification) = find(conn, member.server, &reference)?;
            let removed = diesel::delete(
                certification_awards::table
                    .filter(certification_awards::certification_id.eq(id))
                    .filter(certification_awards::roblox_id.eq(member.member.get())),
            )
            .execute(conn)?;
            if removed == 0 {
                return Err(
                    Error::CertificationNotHeld { member: member.member, reference: certification.reference }.into()
                );
            }
            Ok(certification)
        })
    }
}
