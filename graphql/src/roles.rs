//! What each API key role may do, enforced for every root mutation before anything of
//! the request runs: the document is checked right after it is parsed (before
//! validation and before any resolver reads an argument), so a refused caller gets
//! `FORBIDDEN` whatever it sent; each root mutation is checked again as it resolves.
//! Queries and subscriptions need `READ`, which every key has. Every mutation is in
//! [`REQUIRED`]; one missing from it needs `ADMIN`, and a test fails until it is listed.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextResolve, ResolveInfo,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Context, ErrorExtensions, Pos, ServerError, ServerResult, Value, Variables};
use mooring_tenants::api_keys::Role;

use crate::Caller;
use crate::error::codes;

/// The role of the key in use, put in the request's data by the server. A tenant
/// caller without one may only read: a path that forgot it fails closed.
#[derive(Debug, Clone, Copy)]
pub struct Grant(pub Role);

/// The role each mutation needs. Operator-only mutations also need the operator; that
/// is checked in the resolver (`scope::operator`), this table only keeps tenant keys
/// below `ADMIN` out.
pub const REQUIRED: &[(&str, Role)] = &[
    // Moving transactions along and reviewing customers: OPERATE.
    ("markPendingExternal", Role::Operate),
    ("completeTransaction", Role::Operate),
    ("failTransaction", Role::Operate),
    ("requestTransactionInfo", Role::Operate),
    ("requestCustomerInfo", Role::Operate),
    ("refundTransaction", Role::Operate),
    ("releaseHeldTransaction", Role::Operate),
    ("setCustomerStatus", Role::Operate),
    // Configuration, senders, webhooks, keys, the sandbox: ADMIN.
    ("upsertAsset", Role::Admin),
    ("removeAsset", Role::Admin),
    ("setCustomerType", Role::Admin),
    ("approveSender", Role::Admin),
    ("setSenderEnabled", Role::Admin),
    ("removeSender", Role::Admin),
    ("updateSettings", Role::Admin),
    ("createApiKey", Role::Admin),
    ("revokeApiKey", Role::Admin),
    ("createWebhookEndpoint", Role::Admin),
    ("updateWebhookEndpoint", Role::Admin),
    ("rotateWebhookSecret", Role::Admin),
    ("deleteWebhookEndpoint", Role::Admin),
    ("sendTestWebhook", Role::Admin),
    ("redeliverWebhook", Role::Admin),
    ("setOffchainAsset", Role::Admin),
    ("removeOffchainAsset", Role::Admin),
    ("setCorridor", Role::Admin),
    ("removeCorridor", Role::Admin),
    ("setCorridorRate", Role::Admin),
    ("setExpiredQuotePolicy", Role::Admin),
    ("provisionTestnet", Role::Admin),
    ("runSelfTest", Role::Admin),
    // The operator's (a tenant key is refused by the resolver as well).
    ("createTenant", Role::Admin),
    ("addDomain", Role::Admin),
    ("removeDomain", Role::Admin),
    ("rotateSigningKey", Role::Admin),
    ("suspendTenant", Role::Admin),
    ("resumeTenant", Role::Admin),
    ("setConformanceMode", Role::Admin),
    ("deleteTenant", Role::Admin),
    ("setTenantRateLimit", Role::Admin),
    ("createOperatorKey", Role::Admin),
    ("promoteToPublic", Role::Admin),
];

/// The role `mutation` needs (`ADMIN` for one not listed).
pub fn required(mutation: &str) -> Role {
    REQUIRED.iter().find(|(name, _)| *name == mutation).map_or(Role::Admin, |(_, role)| *role)
}

/// What the caller may do: the operator everything; a tenant key its role; no caller,
/// nothing (`None`).
pub fn granted_by(caller: Option<&Caller>, grant: Option<&Grant>) -> Option<Role> {
    match caller? {
        Caller::Operator => Some(Role::Admin),
        Caller::Tenant(_) => Some(grant.map_or(Role::Read, |g| g.0)),
    }
}

pub fn granted(ctx: &Context<'_>) -> Option<Role> {
    granted_by(ctx.data_opt::<Caller>(), ctx.data_opt::<Grant>())
}

/// A field only keys with at least this role may read (customers' PII: OPERATE, the
/// roles that review customers).
pub struct AtLeast(pub Role);

impl async_graphql::Guard for AtLeast {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        match granted(ctx) {
            Some(role) if role >= self.0 => Ok(()),
            _ => Err(async_graphql::Error::new(format!(
                "this API key's roles do not allow reading this (it needs {})",
                self.0.as_str().to_ascii_uppercase()
            ))
            .extend_with(|_, e| e.set("code", codes::FORBIDDEN))),
        }
    }
}

fn refusal(mutation: &str, needs: Role, pos: Pos) -> ServerError {
    let needs = needs.as_str().to_ascii_uppercase();
    async_graphql::Error::new(format!("this API key's roles do not allow {mutation} (it needs {needs})"))
        .extend_with(|_, e| e.set("code", codes::FORBIDDEN))
        .into_server_error(pos)
}

/// The root fields a mutation operation selects, through fragments.
fn root_fields<'d>(
    doc: &'d ExecutableDocument,
    set: &'d SelectionSet,
    out: &mut Vec<(&'d str, Pos)>,
    depth: u8,
) {
    if depth > 8 {
        return; // fragment cycles are refused by validation; this only bounds the walk
    }
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => out.push((f.node.name.node.as_str(), f.pos)),
            Selection::InlineFragment(f) => root_fields(doc, &f.node.selection_set.node, out, depth + 1),
            Selection::FragmentSpread(s) => {
                if let Some(fragment) = doc.fragments.get(&s.node.fragment_name.node) {
                    root_fields(doc, &fragment.node.selection_set.node, out, depth + 1);
                }
            }
        }
    }
}

pub struct RoleGuard;

impl ExtensionFactory for RoleGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RoleGuard)
    }
}

#[async_trait::async_trait]
impl Extension for RoleGuard {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let Some(role) = granted_by(ctx.data_opt::<Caller>(), ctx.data_opt::<Grant>()) else {
            return Ok(doc);
        };
        let operations: Vec<_> = match &doc.operations {
            DocumentOperations::Single(op) => vec![&op.node],
            DocumentOperations::Multiple(ops) => ops.values().map(|op| &op.node).collect(),
        };
        let mut fields = Vec::new();
        for op in operations.into_iter().filter(|op| op.ty == OperationType::Mutation) {
            root_fields(&doc, &op.selection_set.node, &mut fields, 0);
        }
        for (name, pos) in fields.into_iter().filter(|(name, _)| !name.starts_with("__")) {
            let needs = required(name);
            if role < needs {
                return Err(refusal(name, needs, pos));
            }
        }
        Ok(doc)
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.parent_type == "Mutation" && info.path_node.parent.is_none() && !info.name.starts_with("__") {
            let role = granted_by(ctx.data_opt::<Caller>(), ctx.data_opt::<Grant>());
            let needs = required(info.name);
            if role.is_some_and(|r| r < needs) {
                return Err(refusal(info.name, needs, info.field.name.pos));
            }
        }
        next.run(ctx, info).await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every mutation the schema has is in the table, and nothing else is: a new
    /// mutation cannot ship without someone deciding which role it needs.
    #[test]
    fn every_mutation_in_the_schema_has_its_role() {
        let sdl = crate::sdl();
        let body = sdl.split("type Mutation {").nth(1).expect("a Mutation type").split("\n}").next().unwrap();
        let in_schema: BTreeSet<&str> = body
            .lines()
            .filter(|l| l.starts_with('\t') && !l.starts_with("\t\t") && !l.trim_start().starts_with('"'))
            .filter_map(|l| l.trim().split(['(', ':']).next())
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric()))
            .collect();
        let listed: BTreeSet<&str> = REQUIRED.iter().map(|(n, _)| *n).collect();
        assert_eq!(listed.len(), REQUIRED.len(), "a mutation listed twice");
        assert_eq!(in_schema, listed, "the schema's mutations and the role table differ");
        assert!(in_schema.len() >= 40, "the schema parse found {} mutations", in_schema.len());
    }

    #[test]
    fn operate_is_transactions_and_customer_review_and_read_is_no_mutation() {
        let operate: Vec<&str> =
            REQUIRED.iter().filter(|(_, r)| *r == Role::Operate).map(|(n, _)| *n).collect();
        assert_eq!(operate.len(), 8);
        assert!(REQUIRED.iter().all(|(_, r)| *r != Role::Read));
        assert_eq!(required("somethingNew"), Role::Admin);
        assert_eq!(granted_by(Some(&Caller::Tenant(uuid::Uuid::nil())), None), Some(Role::Read));
        assert_eq!(granted_by(Some(&Caller::Operator), Some(&Grant(Role::Read))), Some(Role::Admin));
        assert_eq!(granted_by(None, Some(&Grant(Role::Admin))), None);
    }
}
