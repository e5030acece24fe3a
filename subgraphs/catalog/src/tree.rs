//! Walking the category tree (categories are few, so the whole tree is read and walked in memory).

use std::collections::HashMap;

use crate::domain::attributes::AttributeDefinition;
use crate::store::CategoryRow;

/// The ids from the root down to `id` (cycles cut off).
pub fn category_path(categories: &HashMap<String, CategoryRow>, id: &str) -> Vec<String> {
    let mut path = Vec::new();
    let mut current = Some(id.to_string());
    while let Some(id) = current {
        if path.contains(&id) || path.len() > 32 {
            break;
        }
        current = categories.get(&id).and_then(|c| c.parent_id.clone());
        path.push(id);
    }
    path.reverse();
    path
}

/// The category and every category below it; `None` for an unknown category.
pub fn category_subtree(
    categories: &HashMap<String, CategoryRow>,
    id: &str,
) -> Option<Vec<String>> {
    if !categories.contains_key(id) {
        return None;
    }
    Some(
        categories
            .keys()
            .filter(|candidate| category_path(categories, candidate).iter().any(|a| a == id))
            .cloned()
            .collect(),
    )
}

/// The attribute definitions a category's products have: those of its ancestors, root first,
/// then its own.
pub fn attribute_definitions(
    categories: &HashMap<String, CategoryRow>,
    id: &str,
) -> Vec<AttributeDefinition> {
    category_path(categories, id)
        .iter()
        .filter_map(|id| categories.get(id))
        .flat_map(|c| c.attributes.iter().cloned())
        .collect()
}
