//! Typed product attributes: a category (a product type) defines the attributes its products
//! may have (text, a number with its unit, yes/no, or one of a list), its subcategories inherit
//! them, and a product's values are checked against them when it is written. A category tree
//! without definitions keeps free-form attributes, as products had before types existed.

use async_graphql::{Enum, InputObject, SimpleObject};
use serde::{Deserialize, Serialize};

use super::Attribute;

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeKind {
    /// Up to 200 characters.
    Text,
    /// A decimal number, in the definition's unit.
    Number,
    /// `true` or `false`.
    Boolean,
    /// One of the definition's choices.
    Choice,
}

/// One attribute a category's products may have.
#[derive(SimpleObject, InputObject, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[graphql(input_name = "AttributeDefinitionInput")]
pub struct AttributeDefinition {
    pub name: String,
    pub kind: AttributeKind,
    /// For numbers ("cm", "kg").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// For choices, in the order shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[graphql(default)]
    pub choices: Vec<String>,
}

impl AttributeDefinition {
    /// Whether shoppers filter by it: choices and yes/no (numbers and free text are shown, not
    /// counted).
    pub fn is_facet(&self) -> bool {
        matches!(self.kind, AttributeKind::Choice | AttributeKind::Boolean)
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AttributeError {
    #[error("attribute names are 1 to 50 characters")]
    InvalidName,
    #[error("attribute {0:?} is defined twice (here or by a parent category)")]
    DuplicateName(String),
    #[error("attribute {0:?}: a choice needs 1 to 200 distinct choices of 1 to 100 characters")]
    InvalidChoices(String),
    #[error("attribute {0:?}: only numbers have a unit, of 1 to 20 characters")]
    InvalidUnit(String),
    #[error("attribute {0:?}: only choices have choices")]
    UnexpectedChoices(String),
    #[error("a category defines at most 50 attributes")]
    TooMany,
    #[error("{name:?} is not an attribute of {category}'s products")]
    Unknown { name: String, category: String },
    #[error("attribute {0:?} is given twice")]
    Repeated(String),
    #[error("attribute {name:?}: {message}")]
    InvalidValue { name: String, message: String },
}

pub const MAX_DEFINITIONS: usize = 50;

/// A category's own definitions as an admin gives them, checked against those it inherits
/// (`inherited`) and those its subcategories define (`below`): a name is defined once along any
/// path of the tree.
pub fn parse_definitions(
    definitions: Vec<AttributeDefinition>,
    inherited: &[AttributeDefinition],
    below: &[AttributeDefinition],
) -> Result<Vec<AttributeDefinition>, AttributeError> {
    if definitions.len() > MAX_DEFINITIONS {
        return Err(AttributeError::TooMany);
    }
    let mut parsed: Vec<AttributeDefinition> = Vec::with_capacity(definitions.len());
    for definition in definitions {
        let name = definition.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 50 {
            return Err(AttributeError::InvalidName);
        }
        let taken = |d: &AttributeDefinition| d.name.eq_ignore_ascii_case(&name);
        if parsed.iter().any(taken) || inherited.iter().any(taken) || below.iter().any(taken) {
            return Err(AttributeError::DuplicateName(name));
        }
        let unit = definition
            .unit
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty());
        match (&unit, definition.kind) {
            (Some(u), AttributeKind::Number) if u.chars().count() <= 20 => {}
            (Some(_), _) => return Err(AttributeError::InvalidUnit(name)),
            (None, _) => {}
        }
        let mut choices: Vec<String> = Vec::new();
        for choice in &definition.choices {
            let choice = choice.trim();
            if choice.is_empty()
                || choice.chars().count() > 100
                || choices.iter().any(|c| c.eq_ignore_ascii_case(choice))
            {
                return Err(AttributeError::InvalidChoices(name));
            }
            choices.push(choice.to_string());
        }
        match definition.kind {
            AttributeKind::Choice if choices.is_empty() || choices.len() > 200 => {
                return Err(AttributeError::InvalidChoices(name))
            }
            AttributeKind::Choice => {}
            _ if !choices.is_empty() => return Err(AttributeError::UnexpectedChoices(name)),
            _ => {}
        }
        parsed.push(AttributeDefinition {
            name,
            kind: definition.kind,
            unit,
            choices,
        });
    }
    Ok(parsed)
}

/// A product's attributes checked against its category's definitions (`category` names it in
/// errors): each defined, given once, its value of the right kind, spelled as defined. Without
/// definitions, the free-form rules apply (see `product::parse_attributes`).
pub fn check_attributes(
    attributes: Vec<Attribute>,
    definitions: &[AttributeDefinition],
    category: &str,
) -> Result<Vec<Attribute>, AttributeError> {
    if definitions.is_empty() {
        return Ok(attributes);
    }
    let mut checked: Vec<Attribute> = Vec::with_capacity(attributes.len());
    for attribute in attributes {
        let definition = definitions
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(attribute.name.trim()))
            .ok_or_else(|| AttributeError::Unknown {
                name: attribute.name.trim().to_string(),
                category: category.to_string(),
            })?;
        if checked.iter().any(|a| a.name == definition.name) {
            return Err(AttributeError::Repeated(definition.name.clone()));
        }
        checked.push(Attribute {
            name: definition.name.clone(),
            value: parse_value(definition, attribute.value.trim())?,
        });
    }
    // In the category's order, so every product of a type reads alike.
    checked.sort_by_key(|a| definitions.iter().position(|d| d.name == a.name));
    Ok(checked)
}

fn parse_value(definition: &AttributeDefinition, value: &str) -> Result<String, AttributeError> {
    let invalid = |message: String| AttributeError::InvalidValue {
        name: definition.name.clone(),
        message,
    };
    match definition.kind {
        AttributeKind::Text if value.is_empty() || value.chars().count() > 200 => {
            Err(invalid("text must be 1 to 200 characters".into()))
        }
        AttributeKind::Text => Ok(value.to_string()),
        AttributeKind::Number => canonical_number(value)
            .ok_or_else(|| invalid(format!("{value:?} is not a number (digits, one point)"))),
        AttributeKind::Boolean => match value.to_ascii_lowercase().as_str() {
            "true" => Ok("true".into()),
            "false" => Ok("false".into()),
            _ => Err(invalid(format!("{value:?} is neither true nor false"))),
        },
        AttributeKind::Choice => definition
            .choices
            .iter()
            .find(|c| c.eq_ignore_ascii_case(value))
            .cloned()
            .ok_or_else(|| {
                invalid(format!(
                    "{value:?} is not one of {}",
                    definition.choices.join(", ")
                ))
            }),
    }
}

/// `-12.50` as written, without leading zeros or a trailing point: `-?digits(.digits)?`, at
/// most 18 digits.
fn canonical_number(value: &str) -> Option<String> {
    let (sign, digits) = match value.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", value),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole)
        || fraction.is_some_and(|f| !all_digits(f))
        || whole.len() + fraction.map_or(0, str::len) > 18
    {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    Some(match fraction {
        Some(fraction) => format!("{sign}{whole}.{fraction}"),
        None => format!("{sign}{whole}"),
    })
}

/// The facet keys of a product's attributes shoppers filter by (`name:value`, as option
/// values are keyed).
pub fn facet_keys(attributes: &[Attribute], definitions: &[AttributeDefinition]) -> Vec<String> {
    attributes
        .iter()
        .filter(|a| definitions.iter().any(|d| d.name == a.name && d.is_facet()))
        .map(|a| format!("{}:{}", a.name, a.value))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition(name: &str, kind: AttributeKind) -> AttributeDefinition {
        AttributeDefinition {
            name: name.into(),
            kind,
            unit: None,
            choices: Vec::new(),
        }
    }

    fn attribute(name: &str, value: &str) -> Attribute {
        Attribute {
            name: name.into(),
            value: value.into(),
        }
    }

    fn shirt_type() -> Vec<AttributeDefinition> {
        vec![
            AttributeDefinition {
                choices: vec!["Cotton".into(), "Linen".into()],
                ..definition("Material", AttributeKind::Choice)
            },
            AttributeDefinition {
                unit: Some("g".into()),
                ..definition("Fabric weight", AttributeKind::Number)
            },
            definition("Organic", AttributeKind::Boolean),
            definition("Care", AttributeKind::Text),
        ]
    }

    #[test]
    fn values_are_checked_by_kind_and_spelled_as_defined() {
        let checked = check_attributes(
            vec![
                attribute("organic", "TRUE"),
                attribute("material", "cotton"),
                attribute("Fabric weight", "0180.5"),
                attribute("Care", " Wash cold "),
            ],
            &shirt_type(),
            "Shirts",
        )
        .unwrap();
        assert_eq!(
            checked,
            vec![
                attribute("Material", "Cotton"),
                attribute("Fabric weight", "180.5"),
                attribute("Organic", "true"),
                attribute("Care", "Wash cold"),
            ]
        );
        assert_eq!(
            facet_keys(&checked, &shirt_type()),
            vec!["Material:Cotton", "Organic:true"]
        );
    }

    #[test]
    fn bad_values_and_unknown_attributes_are_refused() {
        let types = shirt_type();
        let refused = |name: &str, value: &str| {
            check_attributes(vec![attribute(name, value)], &types, "Shirts").unwrap_err()
        };
        assert!(matches!(
            refused("Material", "Silk"),
            AttributeError::InvalidValue { .. }
        ));
        for bad in ["", "1e3", "1.", ".5", "12a", "--1", "1234567890123456789"] {
            assert!(
                matches!(
                    refused("Fabric weight", bad),
                    AttributeError::InvalidValue { .. }
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            refused("Organic", "yes"),
            AttributeError::InvalidValue { .. }
        ));
        assert!(matches!(
            refused("Care", ""),
            AttributeError::InvalidValue { .. }
        ));
        assert_eq!(
            refused("Colour", "Red"),
            AttributeError::Unknown {
                name: "Colour".into(),
                category: "Shirts".into()
            }
        );
        assert_eq!(
            check_attributes(
                vec![attribute("Care", "a"), attribute("care", "b")],
                &types,
                "Shirts"
            ),
            Err(AttributeError::Repeated("Care".into()))
        );
        // Without definitions, anything goes (the free-form rules apply elsewhere).
        assert!(check_attributes(vec![attribute("x", "y")], &[], "Other").is_ok());
    }

    #[test]
    fn definitions_are_checked_along_the_tree() {
        assert_eq!(
            parse_definitions(
                vec![definition("Care", AttributeKind::Text)],
                &shirt_type(),
                &[]
            ),
            Err(AttributeError::DuplicateName("Care".into()))
        );
        assert_eq!(
            parse_definitions(
                vec![definition("care", AttributeKind::Text)],
                &[],
                &shirt_type()
            ),
            Err(AttributeError::DuplicateName("care".into()))
        );
        assert_eq!(
            parse_definitions(vec![definition("Fit", AttributeKind::Choice)], &[], &[]),
            Err(AttributeError::InvalidChoices("Fit".into()))
        );
        let unit_on_text = AttributeDefinition {
            unit: Some("cm".into()),
            ..definition("Care", AttributeKind::Text)
        };
        assert_eq!(
            parse_definitions(vec![unit_on_text], &[], &[]),
            Err(AttributeError::InvalidUnit("Care".into()))
        );
        let repeated_choice = AttributeDefinition {
            choices: vec!["S".into(), "s".into()],
            ..definition("Fit", AttributeKind::Choice)
        };
        assert_eq!(
            parse_definitions(vec![repeated_choice], &[], &[]),
            Err(AttributeError::InvalidChoices("Fit".into()))
        );
        assert_eq!(
            parse_definitions(vec![definition(" ", AttributeKind::Text)], &[], &[]),
            Err(AttributeError::InvalidName)
        );
        assert_eq!(parse_definitions(shirt_type(), &[], &[]), Ok(shirt_type()));
    }
}
