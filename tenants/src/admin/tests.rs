//! The configuration rules as `admin` enforces them, on an in-memory SQLite database:
//! each refusal writes nothing, each write bumps the version replicas watch.

use mooring_entities::{asset, config_state};
use mooring_migration::{Migrator, MigratorTrait};
use mooring_stellar::sep9::FieldType;
use mooring_stellar::{Amount, Keypair, Network};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, EntityTrait, PaginatorTrait};
use uuid::Uuid;

use super::*;
use crate::{AssetStatus, Error, MasterKey, MemoType};

async fn db() -> DatabaseConnection {
    // One connection: every connection to `:memory:` is a database of its own.
    let mut opts = ConnectOptions::new("sqlite::memory:");
    opts.max_connections(1).sqlx_logging(false);
    let db = Database::connect(opts).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    db
}

async fn version(db: &DatabaseConnection) -> i64 {
    config_state::Entity::find_by_id(1).one(db).await.unwrap().unwrap().version
}

fn account() -> String {
    Keypair::generate().public_key().to_string()
}

fn new_tenant(domain: &str, account: &str, network: Network) -> NewTenant {
    NewTenant {
        name: domain.into(),
        domains: vec![domain.into()],
        network,
        horizon_url: "https://horizon-testnet.stellar.org/".into(),
        distribution_account: Some(account.into()),
        org_name: None,
        org_url: None,
        org_description: None,
    }
}

fn new_asset(sender_type: Option<&str>) -> NewAsset {
    NewAsset {
        code: "USDC".into(),
        issuer: account(),
        status: AssetStatus::Test,
        min_amount: None,
        max_amount: None,
        fee_fixed: Amount::ZERO,
        fee_percent: Amount::ZERO,
        memo_type: MemoType::Id,
        sender_sep12_type: sender_type.map(Into::into),
        receiver_sep12_type: None,
        funding_methods: vec![],
        anchor_asset_type: "fiat".into(),
        description: String::new(),
        display_decimals: 2,
        fields: vec![],
        fee_tiers: vec![],
        quotes_required: false,
    }
}

fn field(name: &str, custom: bool, field_type: Option<FieldType>) -> NewCustomerField {
    NewCustomerField {
        name: name.into(),
        custom,
        field_type,
        description: String::new(),
        optional: false,
        choices: None,
    }
}

fn customer_type(fields: Vec<NewCustomerField>) -> NewCustomerType {
    NewCustomerType { name: "sender".into(), description: "Senders".into(), fields }
}

async fn tenant(db: &DatabaseConnection) -> Uuid {
    create_tenant(db, &MasterKey::generate(), new_tenant("a.example", &account(), Network::testnet()))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_refused_write_writes_nothing_and_a_write_bumps_the_version() {
    let db = db().await;
    let id = tenant(&db).await;
    let before = version(&db).await;
    let refused = add_asset(&db, id, new_asset(Some("sender"))).await;
    assert!(
        matches!(refused, Err(Error::Invalid(m)) if m.contains("does not exist")),
        "an asset needs its KYC type first"
    );
    assert_eq!(asset::Entity::find().count(&db).await.unwrap(), 0);
    assert_eq!(version(&db).await, before, "nothing written, nothing to reload");

    set_customer_type(&db, id, customer_type(vec![field("email_address", false, None)])).await.unwrap();
    add_asset(&db, id, new_asset(Some("sender"))).await.unwrap();
    assert_eq!(version(&db).await, before + 2);
}

#[tokio::test]
async fn customer_fields_are_sep9_or_marked_custom_with_a_type() {
    let db = db().await;
    let id = tenant(&db).await;
    let refused = [
        (field("emial_address", false, None), "not a SEP-9 field"),
        (field("loyalty_tier", true, None), "needs a type"),
        (field("email_address", false, Some(FieldType::Binary)), "is of type"),
    ];
    for (f, why) in refused {
        let name = f.name.clone();
        let err = set_customer_type(&db, id, customer_type(vec![f])).await.unwrap_err();
        assert!(err.to_string().contains(why), "{name}: {err}");
    }
    let accepted = vec![
        field("email_address", false, None),
        field("photo_id_front", false, Some(FieldType::Binary)),
        field("loyalty_tier", true, Some(FieldType::String)),
    ];
    set_customer_type(&db, id, customer_type(accepted)).await.unwrap();
}

#[tokio::test]
async fn an_account_is_one_tenants_per_network() {
    let db = db().await;
    let key = MasterKey::generate();
    let shared = account();
    create_tenant(&db, &key, new_tenant("a.example", &shared, Network::testnet())).await.unwrap();
    let taken = create_tenant(&db, &key, new_tenant("b.example", &shared, Network::testnet())).await;
    assert!(matches!(taken, Err(Error::AccountTaken(_))), "{taken:?}");
    create_tenant(&db, &key, new_tenant("c.example", &shared, Network::public())).await.unwrap();
}

#[tokio::test]
async fn upsert_replaces_an_asset_and_the_last_domain_stays() {
    let db = db().await;
    let id = tenant(&db).await;
    let mut first = new_asset(None);
    let issuer = first.issuer.clone();
    first.fee_fixed = Amount::from_units(1);
    upsert_asset(&db, id, first).await.unwrap();
    let mut second = new_asset(None);
    second.issuer = issuer;
    second.fee_fixed = Amount::from_units(2);
    upsert_asset(&db, id, second).await.unwrap();
    let rows = asset::Entity::find().all(&db).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].fee_fixed, Amount::from_units(2).0);

    assert!(remove_domain(&db, id, "a.example").await.is_err(), "a tenant keeps one domain");
    add_domain(&db, id, "b.example").await.unwrap();
    remove_domain(&db, id, "a.example").await.unwrap();
    assert_eq!(tenant_for_domain(&db, "b.example").await.unwrap(), Some(id));
    assert_eq!(tenant_for_domain(&db, "a.example").await.unwrap(), None);
}

#[tokio::test]
async fn a_write_to_an_unknown_tenant_is_not_found_and_writes_nothing() {
    let db = db().await;
    tenant(&db).await;
    let before = version(&db).await;
    let nobody = Uuid::new_v4();
    assert!(matches!(set_status(&db, nobody, true).await, Err(Error::NotFound(_))));
    assert!(matches!(set_rate_limit(&db, nobody, Some((5, 10))).await, Err(Error::NotFound(_))));
    assert_eq!(version(&db).await, before, "nothing written, nothing to reload");
}

/// The audit row handed to a config write commits with it, and only with it: a refused
/// write commits no row (`audit::settle` then records the refusal), a committed one
/// carries its row, and the mutation's next write does not insert it again.
#[tokio::test]
async fn an_audited_write_commits_its_row_with_the_change_and_only_once() {
    use mooring_entities::{Audit, Writer, audit_entry};

    let db = db().await;
    let id = tenant(&db).await;
    let actor = crate::audit::Actor { key: None, key_roles: None, request_id: "req-1".into() };
    let entry = |mutation: &str| crate::audit::entry(&actor, Some(id), mutation, None, "{}".into());
    let slot = Audit::default();
    let w = Writer::audited(&db, &slot);

    let refused = entry("addAsset");
    slot.arm(refused.clone());
    assert!(add_asset(w, id, new_asset(Some("sender"))).await.is_err(), "no KYC type yet");
    slot.disarm();
    assert_eq!(audit_entry::Entity::find().count(&db).await.unwrap(), 0, "a refused write commits no row");
    crate::audit::settle(&db, refused, false).await.unwrap();

    slot.arm(entry("setCustomerType"));
    set_customer_type(w, id, customer_type(vec![field("email_address", false, None)])).await.unwrap();
    assert!(slot.disarm().is_none(), "the committed write took the row");
    add_asset(w, id, new_asset(Some("sender"))).await.unwrap();
    // An unaudited write (SEP requests, setup) carries nothing.
    remove_asset(&db, id, "USDC").await.unwrap();

    let mut rows = audit_entry::Entity::find().all(&db).await.unwrap();
    rows.sort_by_key(|r| r.at);
    let seen: Vec<_> = rows.iter().map(|r| (r.mutation.as_str(), r.outcome.as_str())).collect();
    assert_eq!(seen, [("addAsset", "error"), ("setCustomerType", "ok")]);
    assert!(rows.iter().all(|r| r.request_id == "req-1"));
}
