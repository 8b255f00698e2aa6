//! SEP-1: the tenant's stellar.toml, rendered from its configuration.

use std::fmt::Write;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use super::TenantCtx;
use crate::state::AppState;

const SEP1_VERSION: &str = "2.7.0";

async fn stellar_toml(ctx: TenantCtx) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=60")],
        render(&ctx),
    )
}

/// A TOML basic string, escaped.
fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

pub fn render(ctx: &TenantCtx) -> String {
    let t = &ctx.tenant;
    let base = ctx.base_url();
    let mut out = String::with_capacity(2048);
    let _ = writeln!(out, "VERSION = {}", q(SEP1_VERSION));
    let _ = writeln!(out, "NETWORK_PASSPHRASE = {}", q(t.network.passphrase()));
    let _ = writeln!(out, "SIGNING_KEY = {}", q(&t.signing_key.public_key().to_string()));
    let _ = writeln!(out, "WEB_AUTH_ENDPOINT = {}", q(&ctx.web_auth_endpoint()));
    let _ = writeln!(out, "KYC_SERVER = {}", q(&format!("{base}/kyc")));
    let _ = writeln!(out, "DIRECT_PAYMENT_SERVER = {}", q(&format!("{base}/sep31")));
    if t.quotes_offered() {
        let _ = writeln!(out, "ANCHOR_QUOTE_SERVER = {}", q(&format!("{base}/sep38")));
    }
    let _ = writeln!(out, "HORIZON_URL = {}", q(&t.horizon_url));
    let _ = writeln!(out, "ACCOUNTS = [{}]", q(&t.distribution_account));

    out.push_str("\n[DOCUMENTATION]\n");
    let org = &t.org;
    let org_name = org.name.as_deref().unwrap_or(&t.name);
    let _ = writeln!(out, "ORG_NAME = {}", q(org_name));
    let org_url = org.url.clone().unwrap_or_else(|| base.clone());
    let _ = writeln!(out, "ORG_URL = {}", q(&org_url));
    for (key, value) in [
        ("ORG_DESCRIPTION", &org.description),
        ("ORG_LOGO", &org.logo),
        ("ORG_OFFICIAL_EMAIL", &org.official_email),
        ("ORG_SUPPORT_EMAIL", &org.support_email),
    ] {
        if let Some(v) = value {
            let _ = writeln!(out, "{key} = {}", q(v));
        }
    }

    for asset in t.assets.iter().filter(|a| a.sep31_enabled) {
        out.push_str("\n[[CURRENCIES]]\n");
        let _ = writeln!(out, "code = {}", q(&asset.code));
        let _ = writeln!(out, "issuer = {}", q(&asset.issuer));
        let _ = writeln!(out, "status = {}", q(asset.status.as_str()));
        let _ = writeln!(out, "display_decimals = {}", asset.display_decimals);
        let _ = writeln!(out, "is_asset_anchored = true");
        let _ = writeln!(out, "anchor_asset_type = {}", q(&asset.anchor_asset_type));
        // Wallets (and SDF's validator) expect every currency to say what it is.
        let desc = if asset.description.is_empty() {
            format!("{} received by {org_name} for cross-border payments (SEP-31)", asset.code)
        } else {
            asset.description.clone()
        };
        let _ = writeln!(out, "desc = {}", q(&desc));
    }
    out
}

pub fn router() -> Router<AppState> {
    Router::new().route("/.well-known/stellar.toml", get(stellar_toml))
}
