//! Every root mutation is audited: before it runs, its row (who, tenant, mutation,
//! target, redacted arguments) is put in the request's [`Audit`] slot, which resolvers
//! hand to their writes (`mutation::writer`), so the first write transaction carries
//! it (`mooring_tenants::audit`); after it, a mutation that committed nothing is
//! recorded on its own, with its outcome.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextResolve, ResolveInfo,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerResult, Value, Variables};
use mooring_tenants::audit::{self, Actor, Audit};
use serde_json::{Map, Value as Json};

use crate::{Caller, CoreContext};

/// Argument (and input field) names whose values are kept in the summary: ids,
/// switches and choices. Everything else — URLs, names, amounts, customer fields,
/// anything that could be a secret or PII — is recorded as present, not by value.
const KEPT: [&str; 14] = [
    "tenantId",
    "id",
    "status",
    "enabled",
    "eventTypes",
    "overlapSeconds",
    "format",
    "network",
    "suspended",
    "assetCode",
    "code",
    "account",
    "perSecond",
    "burst",
];

pub struct AuditMutations;

impl ExtensionFactory for AuditMutations {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AuditExtension { variables: Mutex::new(Variables::default()) })
    }
}

struct AuditExtension {
    variables: Mutex<Variables>,
}

fn redact(name: &str, v: &Value) -> Json {
    match v {
        Value::Object(fields) => Json::Object(
            fields.iter().map(|(k, v)| (k.to_string(), redact(k.as_str(), v))).collect::<Map<_, _>>(),
        ),
        Value::List(items) if KEPT.contains(&name) => {
            Json::Array(items.iter().map(|i| redact(name, i)).collect())
        }
        _ if KEPT.contains(&name) => v.clone().into_json().unwrap_or(Json::Null),
        Value::Null => Json::Null,
        _ => Json::String("<redacted>".into()),
    }
}

#[async_trait::async_trait]
impl Extension for AuditExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        *self.variables.lock().expect("variables lock") = variables.clone();
        next.run(ctx, query, variables).await
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let root_mutation = info.parent_type == "Mutation" && info.path_node.parent.is_none();
        let (Some(actor), Ok(core)) = (ctx.data_opt::<Actor>(), ctx.data::<CoreContext>()) else {
            return next.run(ctx, info).await;
        };
        if !root_mutation {
            return next.run(ctx, info).await;
        }
        let variables = self.variables.lock().expect("variables lock").clone();
        let mut args = Map::new();
        for (name, value) in &info.field.arguments {
            let value = value.node.clone().into_const_with(|v| variables.get(&v).cloned().ok_or(()));
            let value = value.unwrap_or(Value::Null);
            args.insert(name.node.to_string(), redact(name.node.as_str(), &value));
        }
        let text = |name: &str| args.get(name).and_then(|v| v.as_str()).map(str::to_string);
        let caller_tenant = match ctx.data_opt::<Caller>() {
            Some(Caller::Tenant(t)) => Some(*t),
            _ => None,
        };
        let tenant = text("tenantId").and_then(|t| t.parse().ok()).or(caller_tenant);
        let target = text("id").or_else(|| text("tenantId"));
        let row = audit::entry(actor, tenant, info.name, target, Json::Object(args.clone()).to_string());
        // Without a slot (a caller that gave none) the row is still written, afterwards.
        let slot = ctx.data_opt::<Audit>();
        slot.inspect(|s| s.arm(row.clone()));
        let result = next.run(ctx, info).await;
        slot.inspect(|s| _ = s.disarm());
        let ok = result.is_ok();
        if let Err(e) = audit::settle(&core.db, row, ok).await {
            tracing::error!(error = %e, "writing an audit row failed");
        }
        result
    }
}
