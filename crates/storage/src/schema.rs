//! The tables, in portable SQL types only (the multi-backend connection supports no others:
//! flags are `Integer` 0/1, instants `BigInt` milliseconds).

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        server_id -> BigInt,
        name -> Text,
        key_hash -> Text,
        read_only -> Integer,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    xp_balances (server_id, roblox_id) {
        server_id -> BigInt,
        roblox_id -> BigInt,
        xp -> BigInt,
        last_decrease -> BigInt,
    }
}

diesel::table! {
    xp_ledger (id) {
        id -> BigInt,
        server_id -> BigInt,
        roblox_id -> BigInt,
        operation -> Text,
        amount -> BigInt,
        delta -> BigInt,
        balance -> BigInt,
        reference -> Nullable<Text>,
        reason -> Nullable<Text>,
        key_id -> Nullable<BigInt>,
        key_name -> Nullable<Text>,
        at -> BigInt,
    }
}

diesel::table! {
    idempotency_keys (id) {
        id -> BigInt,
        api_key_id -> BigInt,
        server_id -> BigInt,
        route -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        answer -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    ep_entries (id) {
        id -> BigInt,
        server_id -> BigInt,
        roblox_id -> BigInt,
        company -> Text,
        amount -> BigInt,
        at -> BigInt,
    }
}

diesel::table! {
    ep_policies (server_id) {
        server_id -> BigInt,
        period_days -> Integer,
        period_start -> BigInt,
        quota_main -> BigInt,
        quota_sub1 -> BigInt,
        quota_sub2 -> BigInt,
        quota_sub3 -> BigInt,
        max_warning_level -> Integer,
        updated_at -> BigInt,
    }
}

diesel::table! {
    loas (id) {
        id -> BigInt,
        server_id -> BigInt,
        roblox_id -> BigInt,
        started_at -> BigInt,
        ends_at -> BigInt,
        ended_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    medals (id) {
        id -> BigInt,
        server_id -> BigInt,
        name -> Text,
        name_key -> Text,
        description -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    medal_awards (medal_id, roblox_id) {
        medal_id -> BigInt,
        roblox_id -> BigInt,
        awarded_at -> BigInt,
    }
}

diesel::table! {
    certifications (id) {
        id -> BigInt,
        server_id -> BigInt,
        reference -> Text,
        name -> Text,
        description -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    certification_awards (certification_id, roblox_id) {
        certification_id -> BigInt,
        roblox_id -> BigInt,
        awarded_at -> BigInt,
    }
}

diesel::joinable!(medal_awards -> medals (medal_id));
diesel::joinable!(certification_awards -> certifications (certification_id));
diesel::allow_tables_to_appear_in_same_query!(medals, medal_awards, certifications, certification_awards);

diesel::table! {
    booster_roles (guild_id, user_id) {
        guild_id -> BigInt,
        user_id -> BigInt,
        role_id -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    modlog_subjects (view_id) {
        view_id -> Text,
        bot_id -> BigInt,
        guild_id -> BigInt,
        user_id -> BigInt,
        user_name -> Text,
        user_avatar -> Nullable<Text>,
        guild_name -> Text,
        guild_icon -> Nullable<Text>,
        updated_at -> BigInt,
        entry_count -> BigInt,
    }
}

diesel::table! {
    modlog_cases (bot_id, guild_id) {
        bot_id -> BigInt,
        guild_id -> BigInt,
        last_case -> BigInt,
    }
}

diesel::table! {
    modlog_entries (bot_id, guild_id, case_number) {
        guild_id -> BigInt,
        case_number -> BigInt,
        view_id -> Text,
        action -> Text,
        moderator_id -> BigInt,
        moderator_name -> Text,
        reason -> Nullable<Text>,
        duration -> Nullable<Text>,
        created_at -> BigInt,
        bot_id -> BigInt,
        ordinal -> BigInt,
    }
}

diesel::table! {
    roblox_settings (guild_id) {
        guild_id -> BigInt,
        group_id -> BigInt,
        key_sealed -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    roblox_links (discord_id) {
        discord_id -> BigInt,
        roblox_id -> BigInt,
        method -> Text,
        server_id -> Nullable<BigInt>,
        linked_at -> BigInt,
    }
}

diesel::table! {
    roblox_link_history (id) {
        id -> BigInt,
        discord_id -> BigInt,
        roblox_id -> BigInt,
        method -> Text,
        server_id -> Nullable<BigInt>,
        linked_at -> BigInt,
        unlinked_at -> BigInt,
    }
}

diesel::table! {
    verification_codes (server_id, discord_id) {
        server_id -> BigInt,
        discord_id -> BigInt,
        roblox_id -> BigInt,
        phrase -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    rank_binds (server_id, bind_index, role_id) {
        server_id -> BigInt,
        bind_index -> Integer,
        min_rank -> Integer,
        max_rank -> Integer,
        role_id -> BigInt,
    }
}

diesel::table! {
    signin_flows (state_hash) {
        state_hash -> Text,
        browser_hash -> Text,
        stage -> Text,
        discord_id -> Nullable<BigInt>,
        discord_name -> Nullable<Text>,
        verifier -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    backups (view_id) {
        view_id -> Text,
        server_id -> BigInt,
        auth_tag -> Binary,
        filename -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    backup_versions (view_id, number) {
        view_id -> Text,
        number -> Integer,
        kind -> Text,
        bytes -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    premium_servers (server_id) {
        server_id -> BigInt,
        granted_at -> BigInt,
    }
}

diesel::table! {
    restore_jobs (job_id) {
        job_id -> Text,
        view_id -> Text,
        origin_server -> BigInt,
        target_server -> BigInt,
        version -> Integer,
        mode -> Text,
        status -> Text,
        progress -> Text,
        started_at -> BigInt,
        finished_at -> Nullable<BigInt>,
        snapshot -> Nullable<Integer>,
        token_sealed -> Nullable<Text>,
        holder -> Text,
        lease_until -> BigInt,
    }
}

diesel::table! {
    restore_job_placed (job_id, backup_id) {
        job_id -> Text,
        backup_id -> BigInt,
        target_id -> BigInt,
    }
}

diesel::table! {
    stream_watches (id) {
        id -> BigInt,
        server_id -> BigInt,
        platform -> Text,
        streamer -> Text,
        streamer_key -> Text,
        channel_id -> BigInt,
        message -> Nullable<Text>,
        mention_role -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    stream_keys (server_id) {
        server_id -> BigInt,
        youtube_key_sealed -> Nullable<Text>,
        twitch_client_id_sealed -> Nullable<Text>,
        twitch_secret_sealed -> Nullable<Text>,
        updated_at -> BigInt,
    }
}

diesel::table! {
    stream_alerts (id) {
        id -> BigInt,
        watch_id -> BigInt,
        stream_id -> Text,
        channel_id -> BigInt,
        message_id -> Nullable<BigInt>,
        title -> Text,
        started_at -> Nullable<BigInt>,
        posted_at -> BigInt,
        ended_at -> Nullable<BigInt>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        server_id -> BigInt,
        url -> Text,
        events -> Text,
        description -> Nullable<Text>,
        secret_sealed -> Text,
        created_at -> BigInt,
        previous_secret_sealed -> Nullable<Text>,
        previous_until -> Nullable<BigInt>,
        failing_since -> Nullable<BigInt>,
        disabled_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> Text,
        server_id -> BigInt,
        kind -> Text,
        body -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    webhook_outbox (seq) {
        seq -> BigInt,
        event_id -> Text,
        server_id -> BigInt,
        kind -> Text,
        body -> Text,
        endpoints -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        event_id -> Text,
        endpoint_id -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<BigInt>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        last_latency_ms -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_events (event_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::allow_tables_to_appear_in_same_query!(webhook_endpoints, webhook_events, webhook_deliveries, webhook_outbox);
