/// A URL slug: lower-case ASCII letters, digits and single dashes ("red-leather-boots").
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty() && slug.len() <= 120 && slugify(slug) == slug
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(
            slugify("Red Leather Boots (Size 42)"),
            "red-leather-boots-size-42"
        );
        assert_eq!(slugify("  Café -- Noir "), "caf-noir");
        assert!(is_valid_slug("red-boots"));
        assert!(!is_valid_slug("Red Boots"));
        assert!(!is_valid_slug("-x"));
    }
}
