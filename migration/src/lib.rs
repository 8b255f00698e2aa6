//! Schema migrations. Every migration must run on both PostgreSQL and SQLite, so they
//! use sea-query's portable builders only, never raw SQL.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_tenants;
mod m20261127_000002_customers_transactions;
mod m20261127_000003_payments;
mod m20261127_000004_admin;
mod m20261130_000005_money_path;
mod m20261130_000006_isolation;
mod m20261130_000007_config_per_tenant;
mod m20261130_000008_shared_streams;
mod m20261130_000009_webhooks;
mod m20261130_000010_pii_keys;
mod m20261130_000011_audit_log;
mod m20261130_000012_conformance_mode;
mod m20261130_000013_quotes;
mod m20261130_000014_quote_reserve;
mod m20261206_000015_ledger_sources;
mod m20261207_000016_testnet_sandbox;
mod m20261207_000017_key_roles;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_tenants::Migration),
            Box::new(m20261127_000002_customers_transactions::Migration),
            Box::new(m20261127_000003_payments::Migration),
            Box::new(m20261127_000004_admin::Migration),
            Box::new(m20261130_000005_money_path::Migration),
            Box::new(m20261130_000006_isolation::Migration),
            Box::new(m20261130_000007_config_per_tenant::Migration),
            Box::new(m20261130_000008_shared_streams::Migration),
            Box::new(m20261130_000009_webhooks::Migration),
            Box::new(m20261130_000010_pii_keys::Migration),
            Box::new(m20261130_000011_audit_log::Migration),
            Box::new(m20261130_000012_conformance_mode::Migration),
            Box::new(m20261130_000013_quotes::Migration),
            Box::new(m20261130_000014_quote_reserve::Migration),
            Box::new(m20261206_000015_ledger_sources::Migration),
            Box::new(m20261207_000016_testnet_sandbox::Migration),
            Box::new(m20261207_000017_key_roles::Migration),
        ]
    }
}
