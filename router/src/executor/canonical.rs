//! Subgraph operations in one canonical order. The planner keeps the client's field order, so
//! two operations asking a subgraph for the same data in another order (`{ id name }` and
//! `{ name id }`) would send different request bodies, which deduplication can never share.
//! Within every selection set of a fetch, fields come first by response key, then inline
//! fragments by type condition, then fragment spreads by name. Nothing depends on the order of
//! a subgraph's answer: it is merged by response key, and the client's own order is restored
//! when its response is written.

use hive_router_query_planner::ast::operation::SubgraphFetchOperation;
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::SelectionSet;
use hive_router_query_planner::planner::plan_nodes::{PlanNode, QueryPlan};

/// Puts every fetch operation of the plan in canonical order.
pub fn canonicalize_plan(plan: &mut QueryPlan) {
    if let Some(node) = &mut plan.node {
        canonicalize_node(node);
    }
}

fn canonicalize_node(node: &mut PlanNode) {
    match node {
        PlanNode::Fetch(fetch) => canonicalize_operation(&mut fetch.operation),
        PlanNode::BatchFetch(batch) => canonicalize_operation(&mut batch.operation),
        PlanNode::Sequence(sequence) => sequence.nodes.iter_mut().for_each(canonicalize_node),
        PlanNode::Parallel(parallel) => parallel.nodes.iter_mut().for_each(canonicalize_node),
        PlanNode::Flatten(flatten) => canonicalize_node(&mut flatten.node),
        PlanNode::Condition(condition) => {
            for node in [&mut condition.if_clause, &mut condition.else_clause]
                .into_iter()
                .flatten()
            {
                canonicalize_node(node);
            }
        }
        // Not executed by this router (subscriptions and @defer are refused before planning).
        PlanNode::Subscription(_) | PlanNode::Defer(_) => {}
    }
}

fn canonicalize_operation(operation: &mut SubgraphFetchOperation) {
    let mut document = operation.document.clone();
    sort_selection_set(&mut document.operation.selection_set);
    for fragment in &mut document.fragments {
        sort_selection_set(&mut fragment.selection_set);
    }
    *operation = SubgraphFetchOperation::from_anonymous_operation(document);
}

fn sort_selection_set(set: &mut SelectionSet) {
    for item in &mut set.items {
        match item {
            SelectionItem::Field(field) => sort_selection_set(&mut field.selections),
            SelectionItem::InlineFragment(fragment) => sort_selection_set(&mut fragment.selections),
            SelectionItem::FragmentSpread(_) => {}
        }
    }
    // Stable: fields under one response key keep their order among themselves.
    set.items.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
}

fn sort_key(item: &SelectionItem) -> (u8, &str) {
    match item {
        SelectionItem::Field(field) => (0, field.alias.as_deref().unwrap_or(&field.name)),
        SelectionItem::InlineFragment(fragment) => (1, &fragment.type_condition),
        SelectionItem::FragmentSpread(name) => (2, name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supergraph::Supergraph;

    fn fetch_operations(plan: &PlanNode, into: &mut Vec<String>) {
        match plan {
            PlanNode::Fetch(fetch) => into.push(fetch.operation.document_str.clone()),
            PlanNode::BatchFetch(batch) => into.push(batch.operation.document_str.clone()),
            PlanNode::Sequence(s) => s.nodes.iter().for_each(|n| fetch_operations(n, into)),
            PlanNode::Parallel(p) => p.nodes.iter().for_each(|n| fetch_operations(n, into)),
            PlanNode::Flatten(f) => fetch_operations(&f.node, into),
            _ => {}
        }
    }

    fn canonical_fetches(supergraph: &Supergraph, query: &str) -> Vec<String> {
        let preparer = crate::pipeline::prepare::OperationPreparer::new(
            8,
            crate::config::Limits::default(),
            true,
        );
        let prepared = preparer
            .prepare_operation_with_cache(supergraph, query, None)
            .unwrap_or_else(|_| panic!("{query} prepares"));
        let mut fetches = Vec::new();
        fetch_operations(
            prepared.plan.as_ref().unwrap().node.as_ref().unwrap(),
            &mut fetches,
        );
        fetches
    }

    #[test]
    fn operations_asking_the_same_data_in_another_order_send_the_same_fetches() {
        let supergraph = Supergraph::parse(include_str!(
            "../../tests/fixtures/gateway-bench/supergraph.graphql"
        ))
        .unwrap();
        let one = canonical_fetches(
            &supergraph,
            "{ topProducts { name upc shippingEstimate reviews { id author { name id } } } }",
        );
        let other = canonical_fetches(
            &supergraph,
            "{ topProducts { reviews { author { id name } id } shippingEstimate upc name } }",
        );
        assert_eq!(one, other);
        assert!(one.iter().any(|f| f.contains("{topProducts{")), "{one:?}");
    }
}
