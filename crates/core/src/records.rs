//! The use cases: what an API call or an operator command does, over the ports.
//!
//! Every member-record operation takes the caller's [`Principal`] and checks it first, so the rule
//! "a key acts only on its own server, a read-only key only reads" lives here and nowhere else.

use std::sync::Arc;

use crate::{
    ApiKeyId, Clock, Error, MemberKey, Result, ServerId, Timestamp,
    apikey::{Access, ApiKey, ApiKeySecret, NewApiKey, Principal, validate_name},
    catalogue::{self, AwardedCertification, AwardedMedal, Certification, CertificationRef, Description, Medal, Name},
    ep::{self, Company, EpPolicy, EpStatus, PolicyDraft},
    idempotency::{IdempotencyKey, IdempotentRequest},
    loa::{self, Loa, LoaStatus},
    ports::{ApiKeys, Certifications, EpLedger, LoaRecords, Medals, XpLedger},
    threads::{WriteQueue, run_write},
    webhooks::Outbox,
    xp::{
        self, Actor, HistoryPage, LeaderboardCursor, LeaderboardPage, LeaderboardRow, Reason, Reference, XpChange,
        XpEntry, XpMutation, XpOutcome,
    },
};

/// How many EP entries or LOAs one query of an EP evaluation reads.
pub const EP_PAGE: u32 = 500;

/// The adapters a [`MemberRecords`] service works through.
#[derive(Clone)]
pub struct RecordStores {
    pub xp: Arc<dyn XpLedger>,
    pub ep: Arc<dyn EpLedger>,
    pub loa: Arc<dyn LoaRecords>,
    pub medals: Arc<dyn Medals>,
    pub certifications: Arc<dyn Certifications>,
    /// Where changes run (the store's writer).
    pub writer: Arc<dyn WriteQueue>,
    /// Where each change writes its webhook event, in the change's own write job.
    pub outbox: Outbox,
}

impl std::fmt::Debug for RecordStores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordStores { .. }")
    }
}

/// A page of XP history and the cursor for the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistorySlice {
    pub entries: Vec<XpEntry>,
    /// Pass as `before` to read older entries; `None` when this page is the last.
    pub next: Option<i64>,
}

/// A page of the leaderboard and the cursor for the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderboardSlice {
    pub rows: Vec<LeaderboardRow>,
    /// Pass as `after` to read the following rows; `None` when this page is the last.
    pub next: Option<LeaderboardCursor>,
}

/// A requested XP change, before authorization.
#[derive(Debug, Clone)]
pub struct XpChangeRequest {
    pub member: MemberKey,
    pub change: XpChange,
    /// A label kept in the ledger.
    pub reference: Option<Reference>,
    pub reason: Option<Reason>,
    /// The client's `Idempotency-Key` header, if any.
    pub idempotency_key: Option<IdempotencyKey>,
}

/// Member records: XP, EP, LOA, medals, certifications.
pub struct MemberRecords {
    stores: RecordStores,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MemberRecords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemberRecords { .. }")
    }
}

impl MemberRecords {
    pub fn new(stores: RecordStores, clock: Arc<dyn Clock>) -> Self {
        Self { stores, clock }
    }

    /// Runs `work` (a change, with whatever checks it makes first) as one job of the store's writer;
    /// the answer comes once the change is durable. Awaited from async code, it holds no thread.
    pub fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> impl std::future::Future<Output = Result<T>> + Send + 'static {
        run_write(&*self.stores.writer, work)
    }

    // --- XP -------------------------------------------------------------------------------

    pub fn xp(&self, caller: &Principal, member: MemberKey) -> Result<i64> {
        caller.authorize(member.server, Access::Read)?;
        self.stores.xp.balance(member)
    }

    /// Applies an XP change. With an `Idempotency-Key`, a repeat of the same request within 24 hours
    /// answers [`XpOutcome::Replayed`] with the first answer and changes nothing, and a different
    /// request under the same key is refused (see [`crate::idempotency`]).
    pub fn change_xp(&self, caller: &Principal, request: XpChangeRequest) -> Result<XpOutcome> {
        caller.authorize(request.member.server, Access::Write)?;
        let at = self.clock.now();
        let idempotency = request.idempotency_key.map(|key| IdempotentRequest {
            key_id: caller.key_id,
            server: request.member.server,
            route: request.change.operation().route(),
            key,
            request_hash: xp::request_hash(
                request.member,
                request.change,
                request.reference.as_ref(),
                request.reason.as_ref(),
            ),
            at,
        });
        let mutation = XpMutation {
            member: request.member,
            change: request.change,
            reference: request.reference,
            reason: request.reason,
            actor: Actor { key_id: Some(caller.key_id), key_name: caller.name.clone() },
            at,
            idempotency,
        };
        let outcome = self.stores.xp.apply(&mutation)?;
        if let XpOutcome::Applied { balance, delta } = outcome {
            self.stores.outbox.record(mutation.member.server, "xp.changed", at, || {
                let mut data = member_data(mutation.member);
                data["operation"] = mutation.change.operation().as_str().into();
                data["amount"] = mutation.change.amount().into();
                data["delta"] = delta.into();
                data["xp"] = balance.into();
                data["reference"] = mutation.reference.as_ref().map(|r| r.as_str().to_owned()).into();
                data["reason"] = mutation.reason.as_ref().map(|r| r.as_str().to_owned()).into();
                data["keyName"] = mutation.actor.key_name.clone().into();
                data
            })?;
        }
        Ok(outcome)
    }

    pub fn xp_history(&self, caller: &Principal, member: MemberKey, page: HistoryPage) -> Result<HistorySlice> {
        caller.authorize(member.server, Access::Read)?;
        let mut entries = self.stores.xp.history(member, HistoryPage { limit: page.limit + 1, ..page })?;
        let more = entries.len() > page.limit as usize;
        entries.truncate(page.limit as usize);
        let next = if more { entries.last().map(|e| e.id) } else { None };
        Ok(HistorySlice { entries, next })
    }

    /// A page of the leaderboard, and the cursor (`after`) for the next one when there may be more.
    pub fn leaderboard(&self, caller: &Principal, server: ServerId, page: LeaderboardPage) -> Result<LeaderboardSlice> {
        caller.authorize(server, Access::Read)?;
        let mut rows = self.stores.xp.leaderboard(server, LeaderboardPage { limit: page.limit + 1, ..page })?;
        let more = rows.len() > page.limit as usize;
        rows.truncate(page.limit as usize);
        let next = if more { rows.last().map(LeaderboardCursor::of) } else { None };
        Ok(LeaderboardSlice { rows, next })
    }

    // --- EP -------------------------------------------------------------------------------

    pub fn ep_policy(&self, caller: &Principal, server: ServerId) -> Result<EpPolicy> {
        caller.authorize(server, Access::Read)?;
        Ok(self.stores.ep.policy(server)?.unwrap_or_default())
    }

    /// Replaces the server's policy; omitted fields take their defaults (see [`PolicyDraft::complete`]).
    pub fn set_ep_policy(&self, caller: &Principal, server: ServerId, draft: PolicyDraft) -> Result<EpPolicy> {
        caller.authorize(server, Access::Write)?;
        let policy = draft.complete(self.clock.now())?;
        self.stores.ep.set_policy(server, &policy, self.clock.now())?;
        Ok(policy)
    }

    pub fn ep_status(&self, caller: &Principal, member: MemberKey) -> Result<EpStatus> {
        caller.authorize(member.server, Access::Read)?;
        self.evaluate_ep(member)
    }

    pub fn add_ep(&self, caller: &Principal, member: MemberKey, company: Company, amount: i64) -> Result<EpStatus> {
        caller.authorize(member.server, Access::Write)?;
        let amount = ep::validate_amount(amount)?;
        let at = self.clock.now();
        self.stores.ep.add(member, company, amount, at)?;
        let status = self.evaluate_ep(member)?;
        self.stores.outbox.record(member.server, "ep.changed", at, || {
            let mut data = member_data(member);
            data["company"] = company.as_str().into();
            data["amount"] = amount.into();
            data["current"] = Company::ALL
                .iter()
                .map(|c| (c.as_str().to_owned(), status.current.get(*c).into()))
                .collect::<serde_json::Map<_, _>>()
                .into();
            data["warningLevel"] = status.warning_level.into();
            data
        })?;
        Ok(status)
    }

    /// The member's EP status, read in pages of [`EP_PAGE`]: the leave that reaches into the window
    /// of examinable periods, then the entries from the oldest period that matters. Memory stays
    /// bounded by the page and the window, not by the member's history.
    fn evaluate_ep(&self, member: MemberKey) -> Result<EpStatus> {
        let now = self.clock.now();
        let policy = self.stores.ep.policy(member.server)?.unwrap_or_default();
        let window_start = ep::examination_window_start(&policy, now);
        let mut excused = ep::ExcusedPeriods::new(&policy, now);
        let mut before = None;
        loop {
            let page = self.stores.loa.reaching_past(member, window_start, before, EP_PAGE)?;
            for (_, loa) in &page {
                excused.add(&policy, loa.span());
            }
            match page.last() {
                Some((id, _)) if page.len() == EP_PAGE as usize => before = Some(*id),
                _ => break,
            }
        }
        let mut evaluation = ep::Evaluation::new(policy, now, &excused);
        let since = evaluation.since();
        let mut after = None;
        loop {
            let page = self.stores.ep.entries_page(member, since, after, EP_PAGE)?;
            for entry in &page {
                evaluation.add(entry.company, entry.amount, entry.at);
            }
            match page.last() {
                Some(last) if page.len() == EP_PAGE as usize => after = Some(last.cursor()),
                _ => break,
            }
        }
        Ok(evaluation.finish())
    }

    // --- LOA ------------------------------------------------------------------------------

    pub fn loa(&self, caller: &Principal, member: MemberKey) -> Result<LoaStatus> {
        caller.authorize(member.server, Access::Read)?;
        Ok(LoaStatus::of(self.stores.loa.latest(member)?, self.clock.now()))
    }

    pub fn start_loa(&self, caller: &Principal, member: MemberKey, days: i64) -> Result<LoaStatus> {
        caller.authorize(member.server, Access::Write)?;
        let days = loa::validate_days(days)?;
        let now = self.clock.now();
        let started =
            self.stores.loa.start(member, Loa { started_at: now, ends_at: now.plus_days(days), ended_at: None })?;
        self.stores.outbox.record(member.server, "loa.started", now, || loa_data(member, &started))?;
        Ok(LoaStatus::of(Some(started), now))
    }

    pub fn end_loa(&self, caller: &Principal, member: MemberKey) -> Result<LoaStatus> {
        caller.authorize(member.server, Access::Write)?;
        let now = self.clock.now();
        let ended = self.stores.loa.end(member, now)?;
        self.stores.outbox.record(member.server, "loa.ended", now, || loa_data(member, &ended))?;
        Ok(LoaStatus::of(Some(ended), now))
    }

    // --- Medals ---------------------------------------------------------------------------

    pub fn medals(&self, caller: &Principal, server: ServerId) -> Result<Vec<Medal>> {
        caller.authorize(server, Access::Read)?;
        self.stores.medals.catalogue(server)
    }

    pub fn create_medal(
        &self,
        caller: &Principal,
        server: ServerId,
        name: &Name,
        description: &Description,
    ) -> Result<Medal> {
        caller.authorize(server, Access::Write)?;
        self.stores.medals.create(server, name, description, self.clock.now())
    }

    pub fn delete_medal(&self, caller: &Principal, server: ServerId, name: &Name) -> Result<Medal> {
        caller.authorize(server, Access::Write)?;
        self.stores.medals.delete(server, name)
    }

    pub fn member_medals(&self, caller: &Principal, member: MemberKey) -> Result<Vec<AwardedMedal>> {
        caller.authorize(member.server, Access::Read)?;
        self.stores.medals.held(member)
    }

    /// Awards a medal and returns the confirmation message.
    pub fn award_medal(&self, caller: &Principal, member: MemberKey, name: &Name) -> Result<String> {
        caller.authorize(member.server, Access::Write)?;
        let at = self.clock.now();
        let medal = self.stores.medals.award(member, name, at)?;
        self.stores.outbox.record(member.server, "medal.awarded", at, || medal_data(member, &medal))?;
        Ok(catalogue::medal_awarded_message(&medal, member.member))
    }

    pub fn revoke_medal(&self, caller: &Principal, member: MemberKey, name: &Name) -> Result<String> {
        caller.authorize(member.server, Access::Write)?;
        let medal = self.stores.medals.revoke(member, name)?;
        self.stores.outbox.record(member.server, "medal.revoked", self.clock.now(), || medal_data(member, &medal))?;
        Ok(catalogue::medal_revoked_message(&medal, member.member))
    }

    // --- Certifications -------------------------------------------------------------------

    pub fn certifications(&self, caller: &Principal, server: ServerId) -> Result<Vec<Certification>> {
        caller.authorize(server, Access::Read)?;
        self.stores.certifications.catalogue(server)
    }

    pub fn create_certification(
        &self,
        caller: &Principal,
        server: ServerId,
        reference: &CertificationRef,
        name: &Name,
        description: &Description,
    ) -> Result<Certification> {
        caller.authorize(server, Access::Write)?;
        self.stores.certifications.create(server, reference, name, description, self.clock.now())
    }

    pub fn delete_certification(
        &self,
        caller: &Principal,
        server: ServerId,
        reference: &CertificationRef,
    ) -> Result<Certification> {
        caller.authorize(server, Access::Write)?;
        self.stores.certifications.delete(server, reference)
    }

    pub fn member_certifications(&self, caller: &Principal, member: MemberKey) -> Result<Vec<AwardedCertification>> {
        caller.authorize(member.server, Access::Read)?;
        self.stores.certifications.held(member)
    }

    /// Whether the member holds the certification. A reference the catalogue lacks is simply not
    /// held (`false`), as the seed's clients expect of a yes/no question.
    pub fn has_certification(
        &self,
        caller: &Principal,
        member: MemberKey,
        reference: &CertificationRef,
    ) -> Result<bool> {
        caller.authorize(member.server, Access::Read)?;
        Ok(self.stores.certifications.held(member)?.iter().any(|c| c.certification.reference == reference.as_str()))
    }

    pub fn award_certification(
        &self,
        caller: &Principal,
        member: MemberKey,
        reference: &CertificationRef,
    ) -> Result<String> {
        caller.authorize(member.server, Access::Write)?;
        let at = self.clock.now();
        let certification = self.stores.certifications.award(member, reference, at)?;
        self.stores
            .outbox
            .record(member.server, "certification.awarded", at, || certification_data(member, &certification))?;
        Ok(catalogue::certification_awarded_message(&certification, member.member))
    }

    pub fn revoke_certification(
        &self,
        caller: &Principal,
        member: MemberKey,
        reference: &CertificationRef,
    ) -> Result<String> {
        caller.authorize(member.server, Access::Write)?;
        let certification = self.stores.certifications.revoke(member, reference)?;
        self.stores.outbox.record(member.server, "certification.revoked", self.clock.now(), || {
            certification_data(member, &certification)
        })?;
        Ok(catalogue::certification_revoked_message(&certification, member.member))
    }
}

// --- Webhook events' data ---------------------------------------------------------------------
// Ids are strings, as in the routes' bodies; times are RFC 3339. docs/webhooks.md shows each shape.

fn member_data(member: MemberKey) -> serde_json::Value {
    serde_json::json!({"serverId": member.server.to_string(), "robloxId": member.member.to_string()})
}

fn loa_data(member: MemberKey, loa: &Loa) -> serde_json::Value {
    let mut data = member_data(member);
    data["startedAt"] = loa.started_at.to_iso8601().into();
    data["endsAt"] = loa.ends_at.to_iso8601().into();
    data["endedAt"] = loa.ended_at.map(Timestamp::to_iso8601).into();
    data
}

fn medal_data(member: MemberKey, medal: &Medal) -> serde_json::Value {
    let mut data = member_data(member);
    data["medal"] = serde_json::json!({"name": medal.name, "description": medal.description});
    data
}

fn certification_data(member: MemberKey, certification: &Certification) -> serde_json::Value {
    let mut data = member_data(member);
    data["certification"] = serde_json::json!({
        "reference": certification.reference,
        "name": certification.name,
        "description": certification.description,
    });
    data
}

/// API-key administration and authentication.
pub struct ApiKeyService {
    keys: Arc<dyn ApiKeys>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ApiKeyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKeyService { .. }")
    }
}

impl ApiKeyService {
    pub fn new(keys: Arc<dyn ApiKeys>, clock: Arc<dyn Clock>) -> Self {
        Self { keys, clock }
    }

    /// Creates a key from 32 bytes of OS entropy; the secret is returned once and never stored.
    pub fn create(
        &self,
        server: ServerId,
        name: &str,
        read_only: bool,
        entropy: [u8; 32],
    ) -> Result<(ApiKey, ApiKeySecret)> {
        let name = validate_name(name)?;
        let secret = ApiKeySecret::from_entropy(entropy);
        let key = self.keys.create(NewApiKey {
            server,
            name,
            read_only,
            hash: secret.hash(),
            created_at: self.clock.now(),
        })?;
        Ok((key, secret))
    }

    pub fn list(&self, server: ServerId) -> Result<Vec<ApiKey>> {
        self.keys.list(server)
    }

    pub fn revoke(&self, id: ApiKeyId) -> Result<ApiKey> {
        self.keys.revoke(id, self.clock.now())
    }

    /// Resolves the key a client presented: `Unauthenticated` unless it is well-formed, known and
    /// not revoked.
    pub fn authenticate(&self, presented: &str) -> Result<Principal> {
        let secret = ApiKeySecret::parse(presented.trim()).ok_or(Error::Unauthenticated("invalid API key"))?;
        let key = self.keys.find_active(&secret.hash())?.ok_or(Error::Unauthenticated("invalid API key"))?;
        Ok(key.into())
    }
}
