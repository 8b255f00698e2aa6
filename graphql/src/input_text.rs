//! Control characters are refused in every GraphQL input (variables and literals in
//! the query), before any resolver runs: NUL breaks PostgreSQL text, and none belong
//! in names, URLs or KYC values. The error names the argument or variable.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Pos, ServerResult, Value as ConstValue, Variables};
use mooring_stellar::text::has_forbidden;

use crate::error::invalid;

pub struct RejectControlCharacters;

impl ExtensionFactory for RejectControlCharacters {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RejectControlCharacters)
    }
}

fn refuse(what: &str) -> async_graphql::ServerError {
    invalid(format!("{what} contains a control character")).into_server_error(Pos::default())
}

fn bad_const(v: &ConstValue) -> bool {
    match v {
        ConstValue::String(s) => has_forbidden(s),
        ConstValue::Enum(name) => has_forbidden(name.as_str()),
        ConstValue::List(items) => items.iter().any(bad_const),
        ConstValue::Object(map) => map.iter().any(|(k, v)| has_forbidden(k) || bad_const(v)),
        _ => false,
    }
}

fn bad_literal(v: &async_graphql_value::Value) -> bool {
    use async_graphql_value::Value;
    match v {
        Value::String(s) => has_forbidden(s),
        Value::List(items) => items.iter().any(bad_literal),
        Value::Object(map) => map.iter().any(|(k, v)| has_forbidden(k) || bad_literal(v)),
        _ => false,
    }
}

fn check_set(set: &SelectionSet) -> ServerResult<()> {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                for (name, value) in &field.node.arguments {
                    if bad_literal(&value.node) {
                        return Err(refuse(&format!("argument {}", name.node)));
                    }
                }
                check_set(&field.node.selection_set.node)?;
            }
            Selection::InlineFragment(fragment) => check_set(&fragment.node.selection_set.node)?,
            Selection::FragmentSpread(_) => {}
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl Extension for RejectControlCharacters {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if let Some((name, _)) = variables.iter().find(|(_, v)| bad_const(v)) {
            return Err(refuse(&format!("variable ${name}")));
        }
        let document = next.run(ctx, query, variables).await?;
        for (_, operation) in document.operations.iter() {
            check_set(&operation.node.selection_set.node)?;
        }
        for fragment in document.fragments.values() {
            check_set(&fragment.node.selection_set.node)?;
        }
        Ok(document)
    }
}
