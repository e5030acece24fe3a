//! The key every domain that sells, stocks, orders or ships something holds: a variant id.
//! Variants made by an admin have ids `var_<ULID>`; a product's default variant (the one a
//! product without options sells, and the one every product got when variants were introduced)
//! has `var_<product id>`, so ids held before variants map to it without a lookup.

/// The id of a product's default variant.
pub fn default_variant_id(product_id: &str) -> String {
    format!("var_{product_id}")
}

/// Whether `raw` is a variant id as the catalog makes them.
pub fn is_variant_id(raw: &str) -> bool {
    primitives::id::has_prefix(raw, "var")
        || raw
            .strip_prefix("var_")
            .is_some_and(|product| primitives::id::has_prefix(product, "prod"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_and_default_variant_ids_are_recognised() {
        let product = primitives::id::new_id("prod");
        assert!(is_variant_id(&default_variant_id(&product)));
        assert!(is_variant_id(&primitives::id::new_id("var")));
        assert!(!is_variant_id(&product));
        assert!(!is_variant_id("var_prod_nope"));
        assert!(!is_variant_id("var_"));
    }
}
