use diesel::prelude::*;
use garrison_core::{
    Error, MemberKey, Result, ServerId, Timestamp,
    catalogue::{AwardedMedal, Description, Medal, Name},
    ports::Medals,
};

use crate::{
    Database,
    db::AnyConnection,
    failure::{Failure, on_unique},
    schema::{medal_awards, medals},
};

/// The medal catalogue (unique by lower-cased name per server) and its awards.
#[derive(Debug, Clone)]
pub struct DieselMedals {
    db: Database,
}

impl DieselMedals {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

fn find(conn: &mut AnyConnection, server: ServerId, name: &Name) -> Result<(i64, Medal), Failure> {
    medals::table
        .filter(medals::server_id.eq(server.get()))
        .filter(medals::name_key.eq(name.key()))
        .select((medals::id, medals::name, medals::description))
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .next()
        .map(|(id, name, description)| (id, Medal { name, description }))
        .ok_or_else(|| Error::UnknownMedal { name: name.as_str().to_owned() }.into())
}

impl Medals for DieselMedals {
    fn catalogue(&self, server: ServerId) -> Result<Vec<Medal>> {
        self.db.read(|conn| {
            let rows = medals::table
                .filter(medals::server_id.eq(server.get()))
                .order(medals::name_key.asc())
                .select((medals::name, medals::description))
                .load::<(String, String)>(conn)?;
            Ok(rows.into_iter().map(|(name, description)| Medal { name, description }).collect())
        })
    }

    fn create(&self, server: ServerId, name: &Name, description: &Description, at: Timestamp) -> Result<Medal> {
        let (name, description) = (name.clone(), description.clone());
        self.db.write(move |conn| {
            diesel::insert_into(medals::table)
                .values((
                    medals::server_id.eq(server.get()),
                    medals::name.eq(name.as_str()),
                    medals::name_key.eq(name.key()),
                    medals::description.eq(description.as_str()),
                    medals::created_at.eq(at.millis()),
                ))
                .execute(conn)
                .map_err(|e| on_unique(e, || Error::MedalExists { name: name.as_str().to_owned() }))?;
            Ok(Medal { name: name.as_str().to_owned(), description: description.as_str().to_owned() })
        })
    }

    fn delete(&self, server: ServerId, name: &Name) -> Result<Medal> {
        let name = name.clone();
        self.db.write(move |conn| {
            let (id, medal) = find(conn, server, &name)?;
            diesel::delete(medal_awards::table.filter(medal_awards::medal_id.eq(id))).execute(conn)?;
            diesel::delete(medals::table.filter(medals::id.eq(id))).execute(conn)?;
            Ok(medal)
        })
    }

    fn held(&self, member: MemberKey) -> Result<Vec<AwardedMedal>> {
        self.db.read(|conn| {
            let rows = medal_awards::table
                .inner_join(medals::table)
                .filter(medals::server_id.eq(member.server.get()))
                .filter(medal_awards::roblox_id.eq(member.member.get()))
                .order((medal_awards::awarded_at.asc(), medals::name_key.asc()))
                .select((medals::name, medals::description, medal_awards::awarded_at))
                .load::<(String, String, i64)>(conn)?;
            Ok(rows
                .into_iter()
                .map(|(name, description, at)| AwardedMedal {
                    medal: Medal { name, description },
                    awarded_at: Timestamp(at),
                })
                .collect())
        })
    }

    fn award(&self, member: MemberKey, name: &Name, at: Timestamp) -> Result<Medal> {
        let name = name.clone();
        self.db.write(move |conn| {
            let (id, medal) = find(conn, member.server, &name)?;
            diesel::insert_into(medal_awards::table)
                .values((
                    medal_awards::medal_id.eq(id),
                    medal_awards::roblox_id.eq(member.member.get()),
                    medal_awards::awarded_at.eq(at.millis()),
                ))
                .execute(conn)
                .map_err(|e| {
                    on_unique(e, || Error::MedalAlreadyAwarded { member: member.member, name: medal.name.clone() })
                })?;
            Ok(medal)
        })
    }

    fn revoke(&self, member: MemberKey, name: &Name) -> Result<Medal> {
        let name = name.clone();
        self.db.write(move |conn| {
            let (id, medal) = find(conn, member.server, &name)?;
            let removed = diesel::delete(
                medal_awards::table
                    .filter(medal_awards::medal_id.eq(id))
                    .filter(medal_awards::roblox_id.eq(member.member.get())),
            )
            .execute(conn)?;
            if removed == 0 {
                return Err(Error::MedalNotHeld { member: member.member, name: medal.name }.into());
            }
            Ok(medal)
        })
    }
}
