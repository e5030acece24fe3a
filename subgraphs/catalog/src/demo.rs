//! Deterministic demo catalog: the same seed and size always give the same categories, brands and
//! products (names, descriptions, prices, attributes, media), so demos and load tests repeat.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::domain::attributes::{AttributeDefinition, AttributeKind};
use crate::domain::slug::slugify;
use crate::domain::{Attribute, Media, OptionValue, ProductOption};
use crate::store::{BrandRow, CategoryRow, ProductRow, VariantRow};

/// 2026-01-01T00:00:00Z: demo rows are dated in the year after it.
const EPOCH_MS: i64 = 1_767_225_600_000;

struct Leaf {
    name: &'static str,
    nouns: &'static [&'static str],
    /// Price range in whole dollars.
    price: (i64, i64),
    materials: &'static [&'static str],
    sizes: &'static [&'static str],
}

const fn leaf(
    name: &'static str,
    nouns: &'static [&'static str],
    price: (i64, i64),
    materials: &'static [&'static str],
    sizes: &'static [&'static str],
) -> Leaf {
    Leaf {
        name,
        nouns,
        price,
        materials,
        sizes,
    }
}

const CLOTHING_SIZES: &[&str] = &["XS", "S", "M", "L", "XL"];
const SHOE_SIZES: &[&str] = &["38", "39", "40", "41", "42", "43", "44", "45"];
const NO_SIZES: &[&str] = &[];

const TREE: &[(&str, &[Leaf])] = &[
    (
        "Apparel",
        &[
            leaf(
                "Shirts",
                &[
                    "Oxford Shirt",
                    "Linen Shirt",
                    "Flannel Shirt",
                    "Polo",
                    "T-Shirt",
                    "Henley",
                ],
                (15, 90),
                &["Cotton", "Linen", "Merino", "Organic Cotton"],
                CLOTHING_SIZES,
            ),
            leaf(
                "Jackets",
                &[
                    "Rain Jacket",
                    "Down Jacket",
                    "Denim Jacket",
                    "Parka",
                    "Bomber Jacket",
                    "Fleece",
                ],
                (60, 420),
                &["Nylon", "Wool", "Denim", "Recycled Polyester"],
                CLOTHING_SIZES,
            ),
            leaf(
                "Shoes",
                &[
                    "Running Shoes",
                    "Boots",
                    "Sneakers",
                    "Hiking Boots",
                    "Loafers",
                    "Sandals",
                ],
                (40, 260),
                &["Leather", "Suede", "Canvas", "Mesh"],
                SHOE_SIZES,
            ),
            leaf(
                "Bags",
                &[
                    "Backpack",
                    "Tote Bag",
                    "Messenger Bag",
                    "Duffel",
                    "Wallet",
                    "Belt",
                ],
                (20, 300),
                &["Leather", "Canvas", "Nylon", "Waxed Cotton"],
                NO_SIZES,
            ),
        ],
    ),
    (
        "Electronics",
        &[
            leaf(
                "Headphones",
                &[
                    "Wireless Headphones",
                    "Earbuds",
                    "Studio Headphones",
                    "Noise-Cancelling Headphones",
                ],
                (25, 450),
                &["Aluminium", "Plastic", "Carbon Fibre"],
                NO_SIZES,
            ),
            leaf(
                "Speakers",
                &[
                    "Bluetooth Speaker",
                    "Soundbar",
                    "Bookshelf Speakers",
                    "Smart Speaker",
                ],
                (30, 800),
                &["Wood", "Aluminium", "Fabric"],
                NO_SIZES,
            ),
            leaf(
                "Cameras",
                &[
                    "Mirrorless Camera",
                    "Action Camera",
                    "Instant Camera",
                    "Webcam",
                    "Camera Lens",
                ],
                (60, 2400),
                &["Magnesium", "Plastic", "Aluminium"],
                NO_SIZES,
            ),
            leaf(
                "Computer Accessories",
                &[
                    "Mechanical Keyboard",
                    "Wireless Mouse",
                    "USB-C Hub",
                    "Monitor Stand",
                    "Laptop Sleeve",
                ],
                (15, 220),
                &["Aluminium", "Plastic", "Felt"],
                NO_SIZES,
            ),
        ],
    ),
    (
        "Home & Kitchen",
        &[
            leaf(
                "Cookware",
                &[
                    "Cast Iron Skillet",
                    "Dutch Oven",
                    "Saucepan",
                    "Wok",
                    "Chef's Knife",
                    "Cutting Board",
                ],
                (20, 350),
                &["Cast Iron", "Stainless Steel", "Carbon Steel", "Walnut"],
                NO_SIZES,
            ),
            leaf(
                "Furniture",
                &[
                    "Armchair",
                    "Coffee Table",
                    "Bookshelf",
                    "Desk",
                    "Bar Stool",
                    "Side Table",
                ],
                (80, 1600),
                &["Oak", "Walnut", "Steel", "Rattan"],
                NO_SIZES,
            ),
            leaf(
                "Lighting",
                &[
                    "Desk Lamp",
                    "Floor Lamp",
                    "Pendant Light",
                    "String Lights",
                    "Wall Sconce",
                ],
                (20, 480),
                &["Brass", "Glass", "Ceramic", "Paper"],
                NO_SIZES,
            ),
            leaf(
                "Decor",
                &[
                    "Vase",
                    "Throw Blanket",
                    "Wall Clock",
                    "Cushion Cover",
                    "Picture Frame",
                    "Candle",
                ],
                (10, 180),
                &["Ceramic", "Wool", "Linen", "Glass"],
                NO_SIZES,
            ),
        ],
    ),
    (
        "Sports & Outdoors",
        &[
            leaf(
                "Camping",
                &[
                    "Tent",
                    "Sleeping Bag",
                    "Camp Stove",
                    "Headlamp",
                    "Water Filter",
                    "Hammock",
                ],
                (20, 650),
                &["Nylon", "Titanium", "Aluminium", "Down"],
                NO_SIZES,
            ),
            leaf(
                "Cycling",
                &[
                    "Bike Helmet",
                    "Bike Light",
                    "Saddle Bag",
                    "Cycling Jersey",
                    "Bike Lock",
                ],
                (15, 300),
                &["Carbon", "Aluminium", "Lycra", "Steel"],
                NO_SIZES,
            ),
            leaf(
                "Fitness",
                &[
                    "Yoga Mat",
                    "Kettlebell",
                    "Resistance Bands",
                    "Jump Rope",
                    "Foam Roller",
                    "Dumbbells",
                ],
                (10, 250),
                &["Rubber", "Cork", "Steel", "Foam"],
                NO_SIZES,
            ),
        ],
    ),
    (
        "Beauty",
        &[
            leaf(
                "Skincare",
                &[
                    "Face Serum",
                    "Moisturiser",
                    "Cleanser",
                    "Sunscreen",
                    "Eye Cream",
                ],
                (8, 120),
                &["Aloe", "Vitamin C", "Hyaluronic", "Niacinamide"],
                NO_SIZES,
            ),
            leaf(
                "Fragrance",
                &["Eau de Parfum", "Cologne", "Scented Candle", "Diffuser"],
                (20, 240),
                &["Cedar", "Vetiver", "Citrus", "Amber"],
                NO_SIZES,
            ),
        ],
    ),
    (
        "Toys & Games",
        &[
            leaf(
                "Board Games",
                &[
                    "Strategy Game",
                    "Party Game",
                    "Card Game",
                    "Cooperative Game",
                ],
                (12, 90),
                &["Cardboard", "Wood"],
                NO_SIZES,
            ),
            leaf(
                "Building Sets",
                &["Building Set", "Marble Run", "Robot Kit", "Train Set"],
                (15, 260),
                &["Wood", "Plastic", "Metal"],
                NO_SIZES,
            ),
        ],
    ),
];

const BRANDS: &[&str] = &[
    "Alder & Pine",
    "Brightline",
    "Cobalt",
    "Driftwood",
    "Everstone",
    "Fieldcraft",
    "Granite Peak",
    "Harbor",
    "Ironwood",
    "Juniper",
    "Kestrel",
    "Larkspur",
    "Meridian",
    "Nimbus",
    "Oakridge",
    "Pioneer",
    "Quill",
    "Redfern",
    "Summit",
    "Tidewater",
    "Umber",
    "Vantage",
    "Wildgrove",
    "Yarrow",
    "Zephyr",
    "Northwind",
    "Lumen",
    "Acorn",
    "Basalt",
    "Copperleaf",
];

const ADJECTIVES: &[&str] = &[
    "Classic",
    "Everyday",
    "Heritage",
    "Ultralight",
    "Modern",
    "Rugged",
    "Essential",
    "Premium",
    "Compact",
    "Signature",
    "Vintage",
    "Trail",
    "Urban",
    "Studio",
    "Coastal",
    "Alpine",
];

const COLORS: &[&str] = &[
    "Black",
    "White",
    "Navy",
    "Olive",
    "Sand",
    "Charcoal",
    "Rust",
    "Forest Green",
    "Slate",
    "Burgundy",
    "Natural",
    "Sky Blue",
];

pub struct DemoCatalog {
    pub brands: Vec<BrandRow>,
    pub categories: Vec<CategoryRow>,
    pub products: Vec<ProductRow>,
    /// The option variants of the products with options (the others sell their default one).
    pub variants: Vec<VariantRow>,
}

/// From this many products on, the oldest one (last in newest-first listings) is a T-shirt in
/// Size x Colour, so the demo shop shows a variant picker.
pub const VARIANT_DEMO_FROM: usize = 30;

/// The attributes of a leaf category's products, as the generator gives them values.
fn leaf_attributes(leaf: &Leaf) -> Vec<AttributeDefinition> {
    let choice = |name: &str, choices: &[&str]| AttributeDefinition {
        name: name.into(),
        kind: AttributeKind::Choice,
        unit: None,
        choices: choices.iter().map(|c| c.to_string()).collect(),
    };
    let mut definitions = vec![
        choice("Color", COLORS),
        AttributeDefinition {
            name: "Material".into(),
            kind: AttributeKind::Text,
            unit: None,
            choices: Vec::new(),
        },
    ];
    if !leaf.sizes.is_empty() {
        definitions.push(choice("Size", leaf.sizes));
    }
    definitions
}

/// The demo T-shirt's options, and each size's surcharge in cents.
const TEE_SIZES: [(&str, i64); 3] = [("S", 0), ("M", 200), ("L", 400)];
const TEE_COLOURS: [&str; 2] = ["Navy", "Sand"];

/// Turns `product` into the demo T-shirt (in `category_id`): its options and its six variants.
fn t_shirt(product: &mut ProductRow, category_id: &str, rng: &mut ChaCha8Rng) -> Vec<VariantRow> {
    product.name = "Everyday Organic Cotton Tee".into();
    product.sku = "TEE-000001".into();
    product.slug = "everyday-organic-cotton-tee".into();
    product.status = "active".into();
    product.category_id = category_id.into();
    product.description = "Our everyday tee in organic cotton: soft, breathable and cut for a \
        relaxed fit. Machine washable; free returns within 30 days."
        .into();
    let attributes = [Attribute {
        name: "Material".into(),
        value: "Organic Cotton".into(),
    }];
    product.attributes = serde_json::to_string(&attributes).unwrap_or_else(|_| "[]".into());
    let media = [Media {
        url: format!(
            "https://picsum.photos/seed/{}/800/800",
            product.sku.to_lowercase()
        ),
        alt: Some(product.name.clone()),
        width: Some(800),
        height: Some(800),
        variant_ids: Vec::new(),
    }];
    product.media = serde_json::to_string(&media).unwrap_or_else(|_| "[]".into());
    let options = vec![
        ProductOption {
            name: "Size".into(),
            values: TEE_SIZES.iter().map(|(s, _)| s.to_string()).collect(),
        },
        ProductOption {
            name: "Colour".into(),
            values: TEE_COLOURS.iter().map(|c| c.to_string()).collect(),
        },
    ];
    product.options = serde_json::to_string(&options).unwrap_or_else(|_| "[]".into());
    let mut variants = Vec::new();
    for (size, surcharge) in TEE_SIZES {
        for colour in TEE_COLOURS {
            let values = vec![
                OptionValue {
                    name: "Size".into(),
                    value: size.into(),
                },
                OptionValue {
                    name: "Colour".into(),
                    value: colour.into(),
                },
            ];
            variants.push(VariantRow {
                id: demo_id("var", rng, product.created_at),
                position: variants.len() as i64 + 1,
                sku: format!("{}-{size}-{}", product.sku, colour.to_uppercase()),
                option_values: serde_json::to_string(&values).unwrap_or_else(|_| "[]".into()),
                price_minor: product.price_minor + surcharge,
                status: "active".into(),
                ..VariantRow::default_of(product)
            });
        }
    }
    variants
}

fn demo_id(prefix: &str, rng: &mut ChaCha8Rng, at_ms: i64) -> String {
    format!(
        "{prefix}_{}",
        ulid::Ulid::from_parts(at_ms as u64, rng.gen())
    )
}

/// `count` products over a fixed tree of categories and brands.
pub fn generate(count: usize, seed: u64) -> DemoCatalog {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let brands: Vec<BrandRow> = BRANDS
        .iter()
        .map(|name| BrandRow {
            id: demo_id("brand", &mut rng, EPOCH_MS),
            name: name.to_string(),
            slug: slugify(name),
            created_at: EPOCH_MS,
        })
        .collect();
    let mut categories = Vec::new();
    let mut leaves = Vec::new();
    for (root, children) in TREE {
        let root_row = CategoryRow {
            id: demo_id("cat", &mut rng, EPOCH_MS),
            parent_id: None,
            name: root.to_string(),
            slug: slugify(root),
            attributes: Vec::new(),
            created_at: EPOCH_MS,
        };
        categories.push(root_row.clone());
        for child in *children {
            let row = CategoryRow {
                id: demo_id("cat", &mut rng, EPOCH_MS),
                parent_id: Some(root_row.id.clone()),
                name: child.name.to_string(),
                slug: slugify(child.name),
                attributes: leaf_attributes(child),
                created_at: EPOCH_MS,
            };
            leaves.push((row.id.clone(), child));
            categories.push(row);
        }
    }
    let year_ms: i64 = 365 * 24 * 3600 * 1000;
    let step = (year_ms / count.max(1) as i64).max(1);
    let mut products: Vec<ProductRow> = (0..count)
        .map(|i| {
            let (category_id, leaf) = &leaves[rng.gen_range(0..leaves.len())];
            let brand = &brands[rng.gen_range(0..brands.len())];
            let noun = leaf.nouns.choose(&mut rng).copied().unwrap_or("Item");
            let adjective = ADJECTIVES.choose(&mut rng).copied().unwrap_or("Classic");
            let material = leaf.materials.choose(&mut rng).copied().unwrap_or("Mixed");
            let color = COLORS.choose(&mut rng).copied().unwrap_or("Black");
            let name = format!("{} {adjective} {material} {noun}", brand.name);
            let sku = format!("{}-{:06}", &slugify(leaf.name).to_uppercase()[..3.min(leaf.name.len())], i + 1);
            let dollars = rng.gen_range(leaf.price.0..=leaf.price.1);
            let cents = [0, 49, 95, 99][rng.gen_range(0..4)];
            let mut attributes = vec![
                Attribute { name: "Color".into(), value: color.into() },
                Attribute { name: "Material".into(), value: material.into() },
            ];
            if let Some(size) = leaf.sizes.choose(&mut rng) {
                attributes.push(Attribute { name: "Size".into(), value: size.to_string() });
            }
            let media = vec![Media {
                url: format!("https://picsum.photos/seed/{}/800/800", sku.to_lowercase()),
                alt: Some(name.clone()),
                width: Some(800),
                height: Some(800),
                variant_ids: Vec::new(),
            }];
            let description = format!(
                "The {adjective} {noun} by {brand} in {color}, made from {material}. {} Part of our {} range; {}.",
                [
                    "Built to last and easy to care for.",
                    "Designed for everyday use and tested by our team.",
                    "Thoughtfully made with attention to every detail.",
                    "A favourite with customers for its comfort and quality.",
                ][rng.gen_range(0..4)],
                leaf.name.to_lowercase(),
                ["free returns within 30 days", "two-year warranty included", "ships within two days", "responsibly sourced"][rng.gen_range(0..4)],
                brand = brand.name,
            );
            let roll: u32 = rng.gen_range(0..100);
            let status = if roll < 95 { "active" } else if roll < 98 { "draft" } else { "archived" };
            let created_at = EPOCH_MS + i as i64 * step;
            ProductRow {
                id: demo_id("prod", &mut rng, created_at),
                slug: format!("{}-{}", slugify(&name), sku.to_lowercase()),
                sku,
                name,
                description,
                brand_id: Some(brand.id.clone()),
                category_id: category_id.clone(),
                price_minor: dollars * 100 + cents,
                currency: "USD".into(),
                attributes: serde_json::to_string(&attributes).unwrap_or_else(|_| "[]".into()),
                media: serde_json::to_string(&media).unwrap_or_else(|_| "[]".into()),
                status: status.into(),
                weight_grams: Some(rng.gen_range(50..5000)),
                options: "[]".into(),
                meta_title: None,
                meta_description: None,
                tax_class: "standard".into(),
                created_at,
                updated_at: created_at,
            }
        })
        .collect();
    let shirts = leaves
        .iter()
        .find(|(_, leaf)| leaf.name == "Shirts")
        .map(|(id, _)| id.clone())
        .expect("the demo tree has a Shirts category");
    let variants = match products.first_mut() {
        Some(oldest) if count >= VARIANT_DEMO_FROM => t_shirt(oldest, &shirts, &mut rng),
        _ => Vec::new(),
    };
    DemoCatalog {
        brands,
        categories,
        products,
        variants,
    }
}

/// The search documents of a generated catalog's active products, without a database
/// (benchmarks).
pub fn search_documents(demo: &DemoCatalog) -> Vec<crate::search::SearchDocument> {
    use std::collections::HashMap;
    let categories: HashMap<String, CategoryRow> = demo
        .categories
        .iter()
        .map(|c| (c.id.clone(), c.clone()))
        .collect();
    let brands: HashMap<&str, &str> = demo
        .brands
        .iter()
        .map(|b| (b.id.as_str(), b.name.as_str()))
        .collect();
    demo.products
        .iter()
        .filter(|p| p.status == "active")
        .map(|p| {
            let brand = p
                .brand_id
                .as_deref()
                .and_then(|b| brands.get(b))
                .map(|s| s.to_string());
            let product = crate::domain::Product::try_from(p.clone())
                .expect("generated demo products are valid");
            let variants: Vec<crate::domain::Variant> = std::iter::once(VariantRow::default_of(p))
                .chain(
                    demo.variants
                        .iter()
                        .filter(|v| v.product_id == p.id)
                        .cloned(),
                )
                .map(|v| crate::domain::Variant::try_from(v).expect("demo variants are valid"))
                .collect();
            crate::search::indexer::search_document(&product, &variants, &categories, brand)
        })
        .collect()
}

/// The demo shop's collections for its home page: the newest products, those under $25
/// (cheapest first), and a hand-picked few (the T-shirt first, when the catalog has it).
pub fn collections(demo: &DemoCatalog) -> Vec<crate::domain::collection::Collection> {
    use crate::domain::collection::{Collection, CollectionFilter, CollectionRule, CollectionSort};
    let collection =
        |id: &str, slug: &str, title: &str, description: &str, rule, sort, position| Collection {
            id: id.into(),
            slug: slug.into(),
            title: title.into(),
            description: description.into(),
            rule,
            sort,
            published: true,
            position,
            created_at: EPOCH_MS,
            updated_at: EPOCH_MS,
        };
    let mut picks: Vec<String> = demo
        .products
        .iter()
        .filter(|p| p.status == "active")
        .map(|p| p.id.clone())
        .collect();
    if let Some(tee) = demo.products.iter().position(|p| p.sku == "TEE-000001") {
        let tee = demo.products[tee].id.clone();
        picks.retain(|id| *id != tee);
        picks.insert(0, tee);
    }
    picks.truncate(8);
    let mut made = vec![
        collection(
            "col_demo_new",
            "new-arrivals",
            "New arrivals",
            "Just in: the newest things in the shop.",
            CollectionRule::Filter(CollectionFilter::default()),
            CollectionSort::Newest,
            0,
        ),
        collection(
            "col_demo_under_25",
            "under-25",
            "Under $25",
            "Small treats, cheapest first.",
            CollectionRule::Filter(CollectionFilter {
                max_price_minor: Some(2_500),
                ..Default::default()
            }),
            CollectionSort::PriceAsc,
            1,
        ),
    ];
    if !picks.is_empty() {
        made.push(collection(
            "col_demo_staff_picks",
            "staff-picks",
            "Staff picks",
            "What we reach for ourselves.",
            CollectionRule::Products(picks),
            CollectionSort::Manual,
            2,
        ));
    }
    made
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_catalog() {
        let a = generate(200, 7);
        let b = generate(200, 7);
        assert_eq!(a.products, b.products);
        assert_eq!(a.products.len(), 200);
        let mut skus: Vec<_> = a.products.iter().map(|p| &p.sku).collect();
        skus.sort();
        skus.dedup();
        assert_eq!(skus.len(), 200, "SKUs are unique");
        assert!(a.products.iter().all(|p| p.price_minor > 0));
        assert_ne!(generate(200, 8).products, a.products);
        // The oldest is the T-shirt in three sizes and two colours.
        assert_eq!(a.variants.len(), 6);
        assert!(a.variants.iter().all(|v| v.product_id == a.products[0].id));
        assert!(a.products[0].has_options());
        assert!(generate(VARIANT_DEMO_FROM - 1, 7).variants.is_empty());
    }
}
