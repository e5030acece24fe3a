//! Typed attributes through the catalog's API: an admin defines a product type on a category,
//! its subcategory inherits it, products' values are checked (and spelled) against it, bad
//! definitions and values are userErrors that change nothing, and search counts and filters
//! the choices and yes/no values.

use std::time::Duration;

use catalog::Catalog;
use kit::testing::TestApp;
use serde_json::{json, Value};

struct Shop {
    app: TestApp<Catalog>,
    admin: String,
}

const SET_ATTRIBUTES: &str = "mutation($input: SetCategoryAttributesInput!) {
    setCategoryAttributes(input: $input) {
        category { id attributeDefinitions { name kind unit choices } }
        userErrors { field code message } } }";

const CREATE: &str = "mutation($input: CreateProductInput!) { createProduct(input: $input) {
    product { id attributes { name value } } userErrors { field code message } } }";

impl Shop {
    async fn start() -> Self {
        let app = catalog::spawn_with_demo(2).await;
        let admin = app.tokens.admin("usr_admin");
        Self { app, admin }
    }

    async fn admin(&self, query: &str, variables: Value) -> Value {
        self.app.data(query, variables, Some(&self.admin)).await
    }

    async fn category(&self, name: &str, parent: Option<&str>) -> String {
        let made = self
            .admin(
                "mutation($input: CreateCategoryInput!) { createCategory(input: $input) { category { id } } }",
                json!({ "input": { "name": name, "parentId": parent } }),
            )
            .await;
        made["createCategory"]["category"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn set_attributes(&self, category: &str, attributes: Value) -> Value {
        self.admin(
            SET_ATTRIBUTES,
            json!({ "input": { "categoryId": category, "attributes": attributes } }),
        )
        .await["setCategoryAttributes"]
            .clone()
    }

    async fn create(&self, sku: &str, category: &str, attributes: Value) -> Value {
        self.admin(
            CREATE,
            json!({ "input": { "sku": sku, "name": format!("Shirt {sku}"), "categoryId": category,
                "status": "ACTIVE", "price": { "amount": "30.00", "currencyCode": "USD" },
                "attributes": attributes } }),
        )
        .await["createProduct"]
            .clone()
    }

    async fn search(&self, filter: Value) -> Value {
        self.app
            .data(
                "query($filter: ProductSearchFilter) { searchProducts(query: \"\", filter: $filter) {
                    totalCount edges { node { sku } }
                    facets { attributes { name values { value count } } } } }",
                json!({ "filter": filter }),
                None,
            )
            .await["searchProducts"]
            .clone()
    }
}

#[tokio::test]
async fn a_product_type_checks_values_and_becomes_search_facets() {
    let shop = Shop::start().await;
    let shirts = shop.category("Test Shirts", None).await;
    let linen = shop.category("Test Linen Shirts", Some(&shirts)).await;

    let defined = shop
        .set_attributes(
            &shirts,
            json!([
                { "name": "Material", "kind": "CHOICE", "choices": ["Cotton", "Linen"] },
                { "name": "Fabric weight", "kind": "NUMBER", "unit": "g" },
                { "name": "Organic", "kind": "BOOLEAN" },
                { "name": "Care", "kind": "TEXT" },
            ]),
        )
        .await;
    assert_eq!(defined["userErrors"], json!([]), "{defined:#}");
    // The subcategory inherits them, and may add its own but not redefine one.
    let own = shop
        .set_attributes(
            &linen,
            json!([{ "name": "Collar", "kind": "CHOICE", "choices": ["Button-down", "Band"] }]),
        )
        .await;
    let names: Vec<&str> = own["category"]["attributeDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Material", "Fabric weight", "Organic", "Care", "Collar"]
    );
    let bad_definitions = [
        json!([{ "name": "material", "kind": "TEXT" }]),
        json!([{ "name": "Fit", "kind": "CHOICE" }]),
        json!([{ "name": "Care label", "kind": "TEXT", "unit": "cm" }]),
        json!([{ "name": "Fit", "kind": "TEXT", "choices": ["Slim"] }]),
    ];
    for bad in bad_definitions {
        let refused = shop.set_attributes(&linen, bad.clone()).await;
        assert_eq!(refused["category"], Value::Null, "{bad}: {refused:#}");
        assert_eq!(
            refused["userErrors"][0]["field"],
            json!(["input", "attributes"]),
            "{bad}"
        );
    }

    // Values are checked by kind and spelled as defined.
    let made = shop
        .create(
            "SHIRT-1",
            &linen,
            json!([{ "name": "organic", "value": "TRUE" }, { "name": "material", "value": "linen" },
                { "name": "Fabric weight", "value": "0180" }, { "name": "Collar", "value": "band" }]),
        )
        .await;
    assert_eq!(made["userErrors"], json!([]), "{made:#}");
    assert_eq!(
        made["product"]["attributes"],
        json!([{ "name": "Material", "value": "Linen" }, { "name": "Fabric weight", "value": "180" },
            { "name": "Organic", "value": "true" }, { "name": "Collar", "value": "Band" }])
    );
    let shirt = made["product"]["id"].as_str().unwrap().to_string();
    let made = shop
        .create(
            "SHIRT-2",
            &shirts,
            json!([{ "name": "Material", "value": "Cotton" }, { "name": "Organic", "value": "false" }]),
        )
        .await;
    assert_eq!(made["userErrors"], json!([]), "{made:#}");

    let bad_values = [
        json!([{ "name": "Material", "value": "Silk" }]),
        json!([{ "name": "Fabric weight", "value": "heavy" }]),
        json!([{ "name": "Organic", "value": "maybe" }]),
        json!([{ "name": "Sleeve", "value": "Long" }]),
        json!([{ "name": "Care", "value": "Wash" }, { "name": "care", "value": "Dry" }]),
    ];
    for bad in bad_values {
        let refused = shop.create("SHIRT-BAD", &linen, bad.clone()).await;
        assert_eq!(refused["product"], Value::Null, "{bad}");
        assert_eq!(
            refused["userErrors"][0]["field"],
            json!(["input", "attributes"]),
            "{bad}: {refused:#}"
        );
    }
    let unchanged = shop
        .admin(
            "mutation($id: ID!) { updateProduct(input: { id: $id, attributes: [{ name: \"Material\", value: \"Wool\" }] }) {
                product { id } userErrors { field message } } }",
            json!({ "id": shirt }),
        )
        .await;
    assert_eq!(
        unchanged["updateProduct"]["userErrors"][0]["message"],
        "attribute \"Material\": \"Wool\" is not one of Cotton, Linen"
    );
    // Moving the shirt to a category without "Collar" is refused while it has one.
    let moved = shop
        .admin(
            "mutation($id: ID!, $c: ID!) { updateProduct(input: { id: $id, categoryId: $c }) {
                userErrors { field message } } }",
            json!({ "id": shirt, "c": shirts }),
        )
        .await;
    assert_eq!(
        moved["updateProduct"]["userErrors"][0]["message"],
        "\"Collar\" is not an attribute of Test Shirts's products"
    );

    // Search counts choices and yes/no values, and filters by them.
    let mut indexed = shop.app.subgraph.service.indexer.indexed();
    tokio::time::timeout(Duration::from_secs(10), indexed.wait_for(|n| *n >= 2))
        .await
        .unwrap()
        .unwrap();
    let linen_only = shop
        .search(json!({ "categoryId": shirts, "attributeValues": [{ "name": "Material", "value": "Linen" }] }))
        .await;
    assert_eq!(
        linen_only["edges"],
        json!([{ "node": { "sku": "SHIRT-1" } }])
    );
    let facets = shop.search(json!({ "categoryId": shirts })).await["facets"]["attributes"].clone();
    let material = facets
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Material")
        .unwrap();
    let mut values = material["values"].as_array().unwrap().clone();
    values.sort_by_key(|v| v["value"].as_str().unwrap().to_string());
    assert_eq!(
        values,
        vec![
            json!({ "value": "Cotton", "count": 1 }),
            json!({ "value": "Linen", "count": 1 })
        ]
    );
    assert!(
        facets
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["name"] != "Fabric weight" && f["name"] != "Care"),
        "numbers and text are not facets: {facets:#}"
    );
}

#[tokio::test]
async fn two_admins_defining_one_name_on_a_category_and_its_child_at_once_get_one_definition() {
    let shop = Shop::start().await;
    let parent = shop.category("Outerwear", None).await;
    let child = shop.category("Raincoats", Some(&parent)).await;
    for round in 0..10 {
        let name = format!("Lining {round}");
        let definition = json!([{ "name": name, "kind": "TEXT" }]);
        let (on_parent, on_child) = tokio::join!(
            shop.set_attributes(&parent, definition.clone()),
            shop.set_attributes(&child, definition.clone()),
        );
        let saved = [&on_parent, &on_child]
            .iter()
            .filter(|answer| answer["userErrors"] == json!([]))
            .count();
        assert_eq!(saved, 1, "round {round}: {on_parent:#} {on_child:#}");
        // The tree defines the name once along the path: the child's definitions (its own and
        // inherited) name it once.
        let tree = shop
            .admin(
                "query($id: ID!) { category(id: $id) { attributeDefinitions { name } } }",
                json!({ "id": child }),
            )
            .await;
        let times = tree["category"]["attributeDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["name"] == name.as_str())
            .count();
        assert_eq!(times, 1, "round {round}: {tree:#}");
        // Clear both for the next round (each may hold it).
        shop.set_attributes(&parent, json!([])).await;
        shop.set_attributes(&child, json!([])).await;
    }
}
