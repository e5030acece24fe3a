//! Operation limits checked after validation: selection depth, alias count, root field count.
//! They bound the work one request can ask of the router and the subgraphs.

use apollo_compiler::executable::{Operation, Selection, SelectionSet};
use apollo_compiler::ExecutableDocument;

use super::PipelineError;
use crate::config::Limits;

/// Selections visited after fragment expansion; bounds "fragment bomb" documents whose
/// spreads multiply exponentially.
const MAX_EXPANDED_SELECTIONS: usize = 100_000;

struct Counts {
    max_depth: usize,
    aliases: usize,
    visited: usize,
}

pub fn check_limits(
    document: &ExecutableDocument,
    operation: &Operation,
    limits: &Limits,
) -> Result<(), PipelineError> {
    let root_fields = operation.root_fields(document).count();
    if root_fields > limits.max_root_fields {
        return Err(PipelineError::LimitExceeded(format!(
            "the operation selects {root_fields} root fields; the limit is {}",
            limits.max_root_fields
        )));
    }
    let mut counts = Counts {
        max_depth: 0,
        aliases: 0,
        visited: 0,
    };
    walk(
        document,
        &operation.selection_set,
        0,
        &mut counts,
        limits.max_depth,
    );
    if counts.visited > MAX_EXPANDED_SELECTIONS {
        return Err(PipelineError::LimitExceeded(format!(
            "the operation expands to more than {MAX_EXPANDED_SELECTIONS} selections"
        )));
    }
    if counts.max_depth > limits.max_depth {
        return Err(PipelineError::LimitExceeded(format!(
            "the operation is nested deeper than {} levels",
            limits.max_depth
        )));
    }
    if counts.aliases > limits.max_aliases {
        return Err(PipelineError::LimitExceeded(format!(
            "the operation uses {} aliases; the limit is {}",
            counts.aliases, limits.max_aliases
        )));
    }
    Ok(())
}

/// Validation already rejected fragment cycles, so recursion ends; walking stops one level past
/// the depth limit so that huge documents cost no more than needed to reject them.
fn walk(
    document: &ExecutableDocument,
    selection_set: &SelectionSet,
    depth: usize,
    counts: &mut Counts,
    max_depth: usize,
) {
    if depth > max_depth || counts.visited > MAX_EXPANDED_SELECTIONS {
        return;
    }
    for selection in &selection_set.selections {
        counts.visited += 1;
        match selection {
            Selection::Field(field) => {
                if field.alias.is_some() {
                    counts.aliases += 1;
                }
                let field_depth = depth + 1;
                counts.max_depth = counts.max_depth.max(field_depth);
                walk(
                    document,
                    &field.selection_set,
                    field_depth,
                    counts,
                    max_depth,
                );
            }
            Selection::InlineFragment(fragment) => {
                walk(document, &fragment.selection_set, depth, counts, max_depth)
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.fragment_name) {
                    walk(document, &fragment.selection_set, depth, counts, max_depth)
                }
            }
        }
    }
}
