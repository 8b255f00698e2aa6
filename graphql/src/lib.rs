//! The GraphQL admin API (async-graphql). Operators onboard and manage tenants; each
//! tenant configures and operates its own anchor. Who is calling arrives as request
//! data ([`Caller`]); the server's HTTP layer authenticates, this crate authorizes.
//!
//! Layout: `query/`, `mutation/` and `subscription.rs` hold one root struct per domain
//! merged into the schema roots; `objects.rs` the output types; `scope.rs` the
//! authorization helpers every resolver starts with.

mod audit;
pub mod cost;
mod enums;
mod error;
mod input_text;
pub mod live;
mod mutation;
mod objects;
mod pagination;
mod query;
pub mod roles;
pub mod sandbox;
mod scope;
mod subscription;

use std::sync::Arc;

use async_graphql::Schema;
use mooring_tenants::{Directory, MasterKey};
use uuid::Uuid;

pub use error::codes;
pub use subscription::Recheck;

/// Who is calling, decided by the server from the bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Caller {
    Operator,
    Tenant(Uuid),
}

/// What every resolver may use.
#[derive(Clone)]
pub struct CoreContext {
    pub db: mooring_anchor::Db,
    pub tenants: Arc<Directory>,
    pub master_key: MasterKey,
    /// The admin API's own host; no tenant may claim it.
    pub admin_host: String,
    /// The platform's Horizon per network, for tenants created without one.
    pub horizon_public_url: String,
    pub horizon_testnet_url: String,
    /// The platform's Horizons and RPCs: which one each tenant's ledger comes from.
    pub ledgers: mooring_tenants::ledger_source::PlatformLedgers,
    /// Corridors' feed rates as this replica last polled them.
    pub rates: Arc<mooring_anchor::quotes::RateBoard>,
    /// The operator's rules for URLs tenants give (webhooks, rate feeds).
    pub outbound: mooring_tenants::public_net::OutboundRules,
    /// One event poller per followed tenant, shared by its subscriptions.
    pub events: Arc<live::EventHub>,
    pub subscription_caps: Arc<live::SubscriptionCaps>,
    /// Testnet ledger writes and the self-test, done by the server.
    pub sandbox: Arc<dyn sandbox::SandboxOps>,
}

pub type MooringSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// Deep or wide queries are refused before they run (see [`cost`]): the endpoint is
/// public, and a tenant key must not be able to make the server build unbounded answers.
pub fn build_schema(core: Option<CoreContext>, limits: cost::Limits) -> MooringSchema {
    let builder =
        Schema::build(query::Query::default(), mutation::Mutation::default(), subscription::Subscription)
            .limit_depth(limits.max_depth)
            .limit_complexity(limits.max_complexity)
            .extension(roles::RoleGuard)
            .extension(input_text::RejectControlCharacters)
            .extension(audit::AuditMutations);
    match core {
        Some(core) => builder.data(core).finish(),
        None => builder.finish(),
    }
}

/// GraphiQL's standard introspection query nests about 13 levels (its `ofType` chains);
/// introspection reads only the schema, never data, so it gets this depth instead.
pub const INTROSPECTION_MAX_DEPTH: usize = 20;

/// The schema that runs introspection-only documents ([`is_introspection`]): the same
/// types, deeper nesting, no data.
pub fn build_introspection_schema(limits: cost::Limits) -> MooringSchema {
    build_schema(None, cost::Limits { max_depth: INTROSPECTION_MAX_DEPTH.max(limits.max_depth), ..limits })
}

/// Whether every operation of `query` is a query whose fields are all introspection
/// (`__schema`, `__type`, `__typename`): then it reads the schema and nothing else.
pub fn is_introspection(query: &str) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType, Selection};
    let Ok(doc) = async_graphql::parser::parse_query(query) else { return false };
    let only_schema = |op: &async_graphql::parser::types::OperationDefinition| {
        op.ty == OperationType::Query
            && op.selection_set.node.items.iter().all(|item| match &item.node {
                Selection::Field(field) => field.node.name.node.starts_with("__"),
                _ => false,
            })
    };
    match &doc.operations {
        DocumentOperations::Single(op) => only_schema(&op.node),
        DocumentOperations::Multiple(ops) => ops.values().all(|op| only_schema(&op.node)),
    }
}

/// The schema in SDL, as kept in `graphql/schema.graphql`.
pub fn sdl() -> String {
    build_schema(None, cost::Limits::default()).sdl()
}

#[cfg(test)]
mod tests {
    /// `graphql/schema.graphql` must match the code; regenerate it with
    /// `MOORING_WRITE_SCHEMA=1 cargo test -p mooring-graphql`.
    /// GraphiQL's own introspection query (graphql-js `getIntrospectionQuery()`, as the
    /// console sends it) runs on the introspection schema and is refused on the normal one.
    #[tokio::test]
    async fn graphiqls_introspection_query_runs_and_other_deep_queries_do_not() {
        let query = include_str!("../tests/graphiql_introspection.graphql");
        assert!(super::is_introspection(query));
        let limits = super::cost::Limits::default();
        let res = super::build_introspection_schema(limits).execute(query).await;
        assert!(res.errors.is_empty(), "{:?}", res.errors);
        let data = res.data.into_json().unwrap();
        assert!(data["__schema"]["types"].as_array().unwrap().iter().any(|t| t["name"] == "Tenant"));
        let normal = super::build_schema(None, limits).execute(query).await;
        assert!(normal.errors.iter().any(|e| e.message.contains("nested too deep")), "{:?}", normal.errors);
        for not in [
            "{ me { kind } }",
            "{ __typename me { kind } }",
            "mutation { __typename }",
            "{ ...F } fragment F on Query { __typename }",
            "not graphql",
        ] {
            assert!(!super::is_introspection(not), "{not}");
        }
    }

    #[test]
    fn schema_file_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
        let sdl = super::sdl();
        if std::env::var("MOORING_WRITE_SCHEMA").is_ok() {
            std::fs::write(path, &sdl).unwrap();
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == sdl,
            "graphql/schema.graphql is stale: run MOORING_WRITE_SCHEMA=1 cargo test -p mooring-graphql"
        );
    }

    /// Every field and argument of our own types has a description (GraphiQL shows them).
    #[tokio::test]
    async fn every_field_is_documented() {
        let schema = super::build_schema(None, super::cost::Limits::default());
        let res = schema
            .execute("{ __schema { types { name kind fields { name description args { name description } } inputFields { name description } } } }")
            .await;
        let data = res.data.into_json().unwrap();
        let mut missing = Vec::new();
        for ty in data["__schema"]["types"].as_array().unwrap() {
            let name = ty["name"].as_str().unwrap();
            // Introspection, scalars, and the connection plumbing async-graphql generates.
            if name.starts_with("__")
                || name.ends_with("Connection")
                || name.ends_with("Edge")
                || name == "PageInfo"
            {
                continue;
            }
            let fields = ty["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(ty["inputFields"].as_array().into_iter().flatten());
            for f in fields {
                if f["description"].as_str().is_none_or(str::is_empty) {
                    missing.push(format!("{name}.{}", f["name"].as_str().unwrap()));
                }
                for a in f["args"].as_array().into_iter().flatten() {
                    let arg = a["name"].as_str().unwrap();
                    let paging = ["first", "after", "before", "last"].contains(&arg);
                    if !paging && a["description"].as_str().is_none_or(str::is_empty) {
                        missing.push(format!("{name}.{}({arg})", f["name"].as_str().unwrap()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "undocumented: {missing:?}");
    }
}
