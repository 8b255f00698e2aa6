//! `mooring serve --demo`: a ready-to-try tenant on `localhost`, shaped like the /info
//! example of the SEP-31 testnet guide. Idempotent: a second run reuses what exists.

use std::path::Path;

use anyhow::Context;
use mooring_stellar::{Amount, Keypair, Network};
use mooring_tenants::MasterKey;
use mooring_tenants::admin::{
    self, NewAsset, NewAssetField, NewCorridor, NewCustomerField, NewCustomerType, NewOffchainAsset,
    NewTenant,
};
use mooring_tenants::{DeliveryMethod, RateSource};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::cfg::Config;

pub const DEMO_DOMAIN: &str = "localhost";
const MASTER_KEY_FILE: &str = "mooring-demo-master-key";
pub const OPERATOR_TOKEN_FILE: &str = "mooring-demo-operator-token";

/// Reads a demo secret from `file`, or generates it there (owner-only) on first use.
/// Secrets go to files, never to the terminal or the logs.
fn demo_secret(file: &str, what: &str) -> anyhow::Result<String> {
    let path = Path::new(file);
    if path.exists() {
        return Ok(std::fs::read_to_string(path)?.trim().to_string());
    }
    let secret = MasterKey::generate().to_base64();
    std::fs::write(path, &secret).with_context(|| format!("writing the demo {what}"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    tracing::warn!(
        file,
        "DEMO MODE: generated {what} and saved it to this file; set it explicitly in production"
    );
    Ok(secret)
}

/// The demo's admin API operator token (see [`OPERATOR_TOKEN_FILE`]).
pub fn demo_operator_token() -> anyhow::Result<String> {
    demo_secret(OPERATOR_TOKEN_FILE, "an operator token")
}

/// The configured master key or, in demo mode only, one kept in a file beside the
/// database so that restarts can still decrypt the seeds they stored.
pub fn demo_master_key(cfg: &Config) -> anyhow::Result<String> {
    if let Some(key) = &cfg.master_key {
        return Ok(key.clone());
    }
    demo_secret(MASTER_KEY_FILE, "a master key (MOORING_MASTER_KEY was not set)")
}

pub struct DemoTenant {
    pub tenant_id: Uuid,
    /// The secret of a sending-anchor key generated on the first run; shown once.
    pub new_sender_secret: Option<String>,
}

pub async fn ensure_demo_tenant(
    db: &DatabaseConnection,
    master_key: &MasterKey,
    cfg: &Config,
) -> anyhow::Result<DemoTenant> {
    let extra_senders: Vec<&str> = cfg.demo_senders.iter().map(String::as_str).collect();
    let (tenant_id, new_sender_secret) = match admin::tenant_for_domain(db, DEMO_DOMAIN).await? {
        Some(id) => {
            // The Horizon to use may differ from run to run (say, a local stand-in).
            admin::set_horizon_url(db, id, &cfg.demo_horizon_url).await?;
            (id, None)
        }
        None => {
            let tenant_id = admin::create_tenant(
                db,
                master_key,
                NewTenant {
                    name: "Mooring Demo Anchor".into(),
                    domains: vec![DEMO_DOMAIN.into()],
                    network: Network::testnet(),
                    horizon_url: cfg.demo_horizon_url.clone(),
                    distribution_account: Some(Keypair::generate().public_key().to_string()),
                    org_name: Some("Mooring Demo Anchor".into()),
                    org_url: None,
                    org_description: Some("A demo receiving anchor hosted by Mooring (testnet).".into()),
                },
            )
            .await?;
            // The customer types first: the asset names them.
            for customer_type in guide_customer_types() {
                admin::add_customer_type(db, tenant_id, customer_type).await?;
            }
            let issuer = Keypair::generate().public_key().to_string();
            admin::add_asset(db, tenant_id, guide_asset(issuer.clone())).await?;
            admin::set_offchain_asset(db, tenant_id, demo_peso()).await?;
            admin::set_corridor(db, tenant_id, demo_corridor(&issuer), Default::default()).await?;
            let sender = Keypair::generate();
            admin::approve_sender(db, tenant_id, &sender.public_key().to_string(), "demo sending anchor")
                .await?;
            (tenant_id, Some(sender.secret()))
        }
    };
    // The demo reads the ledger through Stellar RPC (testnet's by default); an empty
    // MOORING_DEMO_RPC_URL keeps it on Horizon alone.
    let rpc = Some(cfg.demo_rpc_url.trim()).filter(|u| !u.is_empty());
    admin::set_rpc_url(db, tenant_id, rpc).await?;
    for account in extra_senders {
        admin::approve_sender(db, tenant_id, account, "from MOORING_DEMO_SENDERS")
            .await
            .with_context(|| format!("MOORING_DEMO_SENDERS entry {account:?}"))?;
    }
    Ok(DemoTenant { tenant_id, new_sender_secret })
}

/// The SRT asset of the SEP-31 testnet guide's `/info`: limits 10 to 10,000, a fee of
/// 1 + 1 %, the guide's transaction fields, and SEPA/SWIFT/WIRE payouts.
pub fn guide_asset(issuer: String) -> NewAsset {
    let field = |name: &str, description: &str| NewAssetField {
        name: name.into(),
        description: description.into(),
        optional: false,
        choices: None,
    };
    NewAsset {
        code: "SRT".into(),
        issuer,
        status: mooring_tenants::AssetStatus::Test,
        min_amount: Some(Amount::from_units(10)),
        max_amount: Some(Amount::from_units(10_000)),
        fee_fixed: Amount::from_units(1),
        fee_percent: Amount::from_units(1),
        memo_type: mooring_tenants::MemoType::Id,
        sender_sep12_type: Some("sep31-sender".into()),
        receiver_sep12_type: Some("sep31-receiver".into()),
        funding_methods: vec!["SEPA".into(), "SWIFT".into(), "WIRE".into()],
        anchor_asset_type: "fiat".into(),
        description: "Stellar Reference Token, paid out 1:1 to a bank account".into(),
        display_decimals: 2,
        fields: vec![
            field("routing_number", "routing number of the destination bank account"),
            field("account_number", "bank account number of the destination"),
        ],
        fee_tiers: Vec::new(),
        quotes_required: false,
    }
}

/// The demo's payout currency: Mexican pesos by SPEI.
pub fn demo_peso() -> NewOffchainAsset {
    NewOffchainAsset {
        code: "MXN".into(),
        decimals: 2,
        country_codes: vec!["MX".into()],
        delivery_methods: vec![DeliveryMethod {
            name: "SPEI".into(),
            description: "Bank transfer in Mexico to the receiver's CLABE".into(),
        }],
    }
}

/// The demo's SEP-38 corridor: SRT sold for MXN at a fixed 17 pesos per SRT (no
/// spread, so the arithmetic is easy to follow), the asset's 1 + 1 % fee, 10 to 10,000
/// SRT, quotes good for five minutes.
pub fn demo_corridor(srt_issuer: &str) -> NewCorridor {
    NewCorridor {
        sell_asset: format!("stellar:SRT:{srt_issuer}"),
        buy_asset: "iso4217:MXN".into(),
        rate: RateSource::Manual { rate: rust_decimal::Decimal::from(17), as_of: chrono::Utc::now() },
        max_rate_age_secs: None,
        spread_bps: 0,
        quote_lifetime_secs: 300,
        min_sell: Some(Amount::from_units(5)),
        max_sell: Some(Amount::from_units(10_000)),
        fee_fixed: Amount::from_units(1),
        fee_percent: Amount::from_units(1),
        fee_tiers: Vec::new(),
        enabled: true,
        max_outstanding: None,
    }
}

/// The SEP-12 types of the SEP-31 testnet guide: what a sender and a receiver provide.
pub fn guide_customer_types() -> Vec<NewCustomerType> {
    let field = |name: &str, description: &str, optional: bool| NewCustomerField {
        name: name.into(),
        custom: false,
        field_type: None,
        description: description.into(),
        optional,
        choices: None,
    };
    vec![
        NewCustomerType {
            name: "sep31-sender".into(),
            description: "U.S. citizens limited to sending payments of less than $10,000 in value".into(),
            fields: vec![
                field("first_name", "The sender's first name", false),
                field("last_name", "The sender's last name", false),
                field("email_address", "The sender's email address", false),
                field("mobile_number", "The sender's phone number, E.164", true),
                field("birth_date", "The sender's date of birth, YYYY-MM-DD", true),
                field("address", "The sender's street address", true),
            ],
        },
        NewCustomerType {
            name: "sep31-receiver".into(),
            description: "U.S. citizens receiving USD".into(),
            fields: vec![
                field("first_name", "The receiver's first name", false),
                field("last_name", "The receiver's last name", false),
                field("email_address", "The receiver's email address", false),
                field("bank_number", "Routing number of the receiver's bank", false),
                field("bank_account_number", "The receiver's bank account number", false),
                NewCustomerField {
                    choices: Some(vec!["checking".into(), "savings".into()]),
                    ..field("bank_account_type", "Type of the receiver's bank account", true)
                },
                field("clabe_number", "The receiver's CLABE (Mexico)", true),
            ],
        },
    ]
}
