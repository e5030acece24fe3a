//! The inventory API through HTTP: warehouses, adjustments, availability, thresholds and
//! StockLow, reservations, and who may call what.

use std::sync::Mutex;

use catalog::Catalog;
use inventory::Inventory;
use kit::testing::{error_code, spawn_app_with, TestApp};
use serde_json::{json, Value};
use sqlx::Row;

struct Inv {
    app: TestApp<Inventory>,
    admin: String,
    service: String,
    /// The catalog the inventory checks product ids with, and its products not used yet.
    catalog: TestApp<Catalog>,
    products: Mutex<Vec<String>>,
}

impl Inv {
    async fn start() -> Self {
        let catalog = catalog::spawn_with_demo(10).await;
        let page = catalog
            .data(
                "{ products(first: 10) { edges { node { id } } } }",
                json!({}),
                None,
            )
            .await;
        let products = page["products"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_string())
            .collect();
        let url = catalog.url();
        let app = spawn_app_with::<Inventory>(|env| env.set("CATALOG_URL", url)).await;
        let admin = app.tokens.admin("usr_admin");
        let service = app.tokens.token("cli_checkout", &[auth::SERVICE_SCOPE]);
        Self {
            app,
            admin,
            service,
            catalog,
            products: Mutex::new(products),
        }
    }

    /// A catalog product this test has not used yet.
    fn product(&self) -> String {
        self.products
            .lock()
            .unwrap()
            .pop()
            .expect("enough demo products")
    }

    async fn as_admin(&self, query: &str, variables: Value) -> Value {
        self.app.data(query, variables, Some(&self.admin)).await
    }

    async fn warehouse(&self, code: &str) -> String {
        let data = self
            .as_admin(
                "mutation($input: CreateWarehouseInput!) { createWarehouse(input: $input) {
                    warehouse { id code active } userErrors { code } } }",
                json!({ "input": { "code": code, "name": format!("Warehouse {code}") } }),
            )
            .await;
        data["createWarehouse"]["warehouse"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{data}"))
            .to_string()
    }

    async fn adjust(
        &self,
        product: &str,
        warehouse: &str,
        kind: &str,
        quantity: i64,
        key: &str,
    ) -> Value {
        self.as_admin(
            "mutation($input: AdjustStockInput!) { adjustStock(input: $input) {
                adjustment { id kind delta onHandAfter actor } userErrors { field code message } } }",
            json!({ "input": { "productId": product, "warehouseId": warehouse, "kind": kind,
                "quantity": quantity, "reason": "test", "idempotencyKey": key } }),
        )
        .await["adjustStock"]
            .clone()
    }

    async fn availability(&self, product: &str, token: Option<&str>) -> Value {
        self.app
            .graphql(
                "query($r: [_Any!]!) { _entities(representations: $r) {
                    ... on Product { id availability { inStock availableQuantity } } } }",
                json!({ "r": [{ "__typename": "Product", "id": product }] }),
                token,
            )
            .await["data"]["_entities"][0]["availability"]
            .clone()
    }

    async fn reserve(&self, reference: &str, lines: Value, token: Option<&str>) -> Value {
        self.app
            .graphql(
                "mutation($input: ReserveStockInput!) { reserveStock(input: $input) {
                    reservation { orderReference status lines { variant { id } warehouseId quantity } }
                    userErrors { field code message } } }",
                json!({ "input": { "orderReference": reference, "lines": lines } }),
                token,
            )
            .await
    }

    async fn transition(&self, mutation: &str, reference: &str) -> Value {
        let query = format!(
            "mutation($input: ReservationInput!) {{ {mutation}(input: $input) {{
                reservation {{ status }} userErrors {{ code }} }} }}"
        );
        self.app
            .data(
                &query,
                json!({ "input": { "orderReference": reference } }),
                Some(&self.service),
            )
            .await[mutation]
            .clone()
    }

    /// The StockLow events in the outbox, as (product, available).
    async fn stock_low_events(&self) -> Vec<(String, i64)> {
        sqlx::query(
            "SELECT body FROM outbox_events WHERE topic = 'inventory.stock_low' ORDER BY id",
        )
        .fetch_all(self.app.database.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| {
            let event: event_bus::Event =
                serde_json::from_str(&row.try_get::<String, _>("body").unwrap()).unwrap();
            (
                event.payload["productId"].as_str().unwrap().to_string(),
                event.payload["available"].as_i64().unwrap(),
            )
        })
        .collect()
    }
}

#[tokio::test]
async fn an_admin_restocks_and_the_product_shows_in_stock() {
    let inv = Inv::start().await;
    let p = inv.product();
    assert_eq!(
        inv.availability(&p, None).await,
        json!({ "inStock": false, "availableQuantity": 0 })
    );
    let berlin = inv.warehouse("ber-1").await;
    let restock = inv.adjust(&p, &berlin, "RESTOCK", 12, "k1").await;
    assert_eq!(restock["userErrors"], json!([]));
    assert_eq!(restock["adjustment"]["delta"], 12);
    assert_eq!(restock["adjustment"]["onHandAfter"], 12);
    assert_eq!(restock["adjustment"]["actor"], "usr_admin");
    assert_eq!(
        inv.availability(&p, None).await,
        json!({ "inStock": true, "availableQuantity": 12 })
    );
    let damage = inv.adjust(&p, &berlin, "DAMAGE", 2, "k2").await;
    assert_eq!(damage["adjustment"]["delta"], -2);
    let ledger = inv
        .as_admin(
            "query($p: ID!) { stockAdjustments(productId: $p) { edges { node { kind delta onHandAfter } } } }",
            json!({ "p": p }),
        )
        .await;
    assert_eq!(
        ledger["stockAdjustments"]["edges"],
        json!([
            { "node": { "kind": "DAMAGE", "delta": -2, "onHandAfter": 10 } },
            { "node": { "kind": "RESTOCK", "delta": 12, "onHandAfter": 12 } }
        ])
    );
}

#[tokio::test]
async fn a_repeated_adjustment_key_returns_the_first_adjustment_and_changes_nothing() {
    let inv = Inv::start().await;
    let p = inv.product();
    let berlin = inv.warehouse("BER-1").await;
    let first = inv.adjust(&p, &berlin, "RESTOCK", 5, "same").await;
    let again = inv.adjust(&p, &berlin, "RESTOCK", 5, "same").await;
    assert_eq!(first["adjustment"], again["adjustment"]);
    assert_eq!(inv.availability(&p, None).await["availableQuantity"], 5);
}

#[tokio::test]
async fn bad_adjustments_are_user_errors_and_store_nothing() {
    let inv = Inv::start().await;
    let p = inv.product();
    let berlin = inv.warehouse("BER-1").await;
    inv.adjust(&p, &berlin, "RESTOCK", 3, "ok").await;
    let unknown = primitives::id::new_id("prod");
    for (kind, quantity, warehouse, product_id, code) in [
        ("RESTOCK", 0, berlin.as_str(), p.as_str(), "INVALID_INPUT"),
        ("RESTOCK", -4, berlin.as_str(), p.as_str(), "INVALID_INPUT"),
        ("DAMAGE", 4, berlin.as_str(), p.as_str(), "NEGATIVE_STOCK"),
        (
            "CORRECTION",
            -4,
            berlin.as_str(),
            p.as_str(),
            "NEGATIVE_STOCK",
        ),
        (
            "CORRECTION",
            0,
            berlin.as_str(),
            p.as_str(),
            "INVALID_INPUT",
        ),
        ("SALE", 1, berlin.as_str(), p.as_str(), "INVALID_INPUT"),
        ("RESTOCK", 1, "wh_nope", p.as_str(), "UNKNOWN_WAREHOUSE"),
        (
            "RESTOCK",
            1,
            berlin.as_str(),
            "not-a-product",
            "INVALID_INPUT",
        ),
        (
            "RESTOCK",
            1,
            berlin.as_str(),
            unknown.as_str(),
            "UNKNOWN_PRODUCT",
        ),
        (
            "RESTOCK",
            1_000_000,
            berlin.as_str(),
            p.as_str(),
            "INVALID_INPUT",
        ),
    ] {
        let key = primitives::id::new_id("key");
        let result = inv
            .adjust(product_id, warehouse, kind, quantity, &key)
            .await;
        assert_eq!(
            result["adjustment"],
            Value::Null,
            "{kind} {quantity}: {result}"
        );
        assert_eq!(
            result["userErrors"][0]["code"], code,
            "{kind} {quantity}: {result}"
        );
    }
    assert_eq!(inv.availability(&p, None).await["availableQuantity"], 3);
    let taken = inv
        .as_admin(
            "mutation { createWarehouse(input: { code: \"BER-1\", name: \"Again\" }) { userErrors { code field } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        taken["createWarehouse"]["userErrors"],
        json!([{ "code": "CODE_TAKEN", "field": ["input", "code"] }])
    );
}

#[tokio::test]
async fn only_admins_manage_stock_and_see_warehouse_levels() {
    let inv = Inv::start().await;
    let customer = inv.app.tokens.customer("usr_c");
    let body = inv
        .app
        .graphql("{ warehouses { id } }", json!({}), Some(&customer))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let body = inv
        .app
        .graphql("{ warehouses { id } }", json!({}), None)
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");

    let p = inv.product();
    let berlin = inv.warehouse("BER-1").await;
    inv.adjust(&p, &berlin, "RESTOCK", 7, "k").await;
    let query = "query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Product { availability { warehouses { warehouseId onHand reserved available } } } } }";
    let variables = json!({ "r": [{ "__typename": "Product", "id": p }] });
    let levels = inv
        .app
        .data(query, variables.clone(), Some(&inv.admin))
        .await;
    assert_eq!(
        levels["_entities"][0]["availability"]["warehouses"],
        json!([{ "warehouseId": berlin, "onHand": 7, "reserved": 0, "available": 7 }])
    );
    let body = inv.app.graphql(query, variables, Some(&customer)).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
}

#[tokio::test]
async fn stock_low_fires_once_per_crossing_of_the_threshold() {
    let inv = Inv::start().await;
    let p = inv.product();
    let berlin = inv.warehouse("BER-1").await;
    let set = inv
        .as_admin(
            "mutation($input: SetLowStockThresholdInput!) { setLowStockThreshold(input: $input) { threshold userErrors { code } } }",
            json!({ "input": { "productId": p, "threshold": 4 } }),
        )
        .await;
    assert_eq!(set["setLowStockThreshold"]["threshold"], 4);
    inv.adjust(&p, &berlin, "RESTOCK", 10, "a").await;
    assert!(inv.stock_low_events().await.is_empty());
    inv.adjust(&p, &berlin, "DAMAGE", 6, "b").await; // 4: crosses
    inv.adjust(&p, &berlin, "DAMAGE", 1, "c").await; // 3: still low, no second event
    assert_eq!(inv.stock_low_events().await, vec![(p.clone(), 4)]);
    let low = inv
        .as_admin(
            "{ lowStockProducts(first: 10) { edges { node { product { id } available threshold outOfStock } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        low["lowStockProducts"]["edges"],
        json!([{ "node": { "product": { "id": p }, "available": 3, "threshold": 4, "outOfStock": false } }])
    );
    inv.adjust(&p, &berlin, "RESTOCK", 5, "d").await; // 8: recovered
    inv.adjust(&p, &berlin, "DAMAGE", 8, "e").await; // 0: crosses again
    assert_eq!(inv.stock_low_events().await, vec![(p.clone(), 4), (p, 0)]);
}

#[tokio::test]
async fn reservations_are_internal_to_services() {
    let inv = Inv::start().await;
    let lines = json!([{ "variantId": format!("var_{}", inv.product()), "quantity": 1 }]);
    let customer = inv.app.tokens.customer("usr_c");
    assert_eq!(
        error_code(&inv.reserve("ord_1", lines.clone(), Some(&customer)).await),
        "FORBIDDEN"
    );
    assert_eq!(
        error_code(&inv.reserve("ord_1", lines.clone(), Some(&inv.admin)).await),
        "FORBIDDEN"
    );
    assert_eq!(
        error_code(&inv.reserve("ord_1", lines, None).await),
        "UNAUTHENTICATED"
    );
    let sdl = <Inventory as kit::Subgraph>::sdl();
    assert!(
        sdl.contains("reserveStock(input: ReserveStockInput!): ReservationPayload! @inaccessible"),
        "{sdl}"
    );
}

#[tokio::test]
async fn a_reservation_holds_all_lines_or_none_and_repeats_return_the_first() {
    let inv = Inv::start().await;
    let (a, b) = (inv.product(), inv.product());
    let berlin = inv.warehouse("BER-1").await;
    let madrid = inv.warehouse("MAD-1").await;
    inv.adjust(&a, &berlin, "RESTOCK", 3, "a1").await;
    inv.adjust(&a, &madrid, "RESTOCK", 4, "a2").await;
    inv.adjust(&b, &berlin, "RESTOCK", 1, "b1").await;
    let service = Some(inv.service.as_str());

    // b is short: nothing is held, not even a.
    let short = inv
        .reserve(
            "ord_1",
            json!([{ "variantId": format!("var_{}", a), "quantity": 2 }, { "variantId": format!("var_{}", b), "quantity": 2 }]),
            service,
        )
        .await;
    assert_eq!(
        short["data"]["reserveStock"]["userErrors"][0]["code"], "INSUFFICIENT_STOCK",
        "{short}"
    );
    assert_eq!(inv.availability(&a, None).await["availableQuantity"], 7);
    // Both short: the refusal names both.
    let both = inv
        .reserve(
            "ord_1",
            json!([{ "variantId": format!("var_{}", a), "quantity": 9 }, { "variantId": format!("var_{}", b), "quantity": 2 }]),
            service,
        )
        .await;
    let message = both["data"]["reserveStock"]["userErrors"][0]["message"]
        .as_str()
        .unwrap();
    assert_eq!(
        message,
        format!(
            "not enough stock: var_{a} (9 wanted, 7 available); var_{b} (2 wanted, 1 available)"
        )
    );

    // 6 of a: no warehouse has 6, so Madrid (most) gives 4 and Berlin 2.
    let held = inv
        .reserve(
            "ord_2",
            json!([{ "variantId": format!("var_{}", a), "quantity": 6 }, { "variantId": format!("var_{}", b), "quantity": 1 }]),
            service,
        )
        .await;
    let reservation = &held["data"]["reserveStock"]["reservation"];
    assert_eq!(reservation["status"], "HELD", "{held}");
    let mut lines: Vec<(String, String, i64)> = reservation["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["variant"]["id"].as_str().unwrap().to_string(),
                l["warehouseId"].as_str().unwrap().to_string(),
                l["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    lines.sort();
    let (var_a, var_b) = (format!("var_{a}"), format!("var_{b}"));
    let mut expected = vec![
        (var_a.clone(), madrid.clone(), 4),
        (var_a.clone(), berlin.clone(), 2),
        (var_b.clone(), berlin.clone(), 1),
    ];
    expected.sort();
    assert_eq!(lines, expected);
    assert_eq!(inv.availability(&a, None).await["availableQuantity"], 1);

    let again = inv
        .reserve(
            "ord_2",
            json!([{ "variantId": format!("var_{}", a), "quantity": 1 }]),
            service,
        )
        .await;
    assert_eq!(again["data"]["reserveStock"]["reservation"], *reservation);
    assert_eq!(inv.availability(&a, None).await["availableQuantity"], 1);

    // Confirm takes the units off on-hand; a second confirm changes nothing; release is refused.
    assert_eq!(
        inv.transition("confirmReservation", "ord_2").await["reservation"]["status"],
        "CONFIRMED"
    );
    assert_eq!(
        inv.transition("confirmReservation", "ord_2").await["reservation"]["status"],
        "CONFIRMED"
    );
    assert_eq!(
        inv.transition("releaseReservation", "ord_2").await["userErrors"][0]["code"],
        "RESERVATION_CLOSED"
    );
    assert_eq!(inv.availability(&a, None).await["availableQuantity"], 1);
    assert_eq!(
        inv.transition("confirmReservation", "ord_nope").await["userErrors"][0]["code"],
        "NOT_FOUND"
    );

    for bad in [
        json!([]),
        json!([{ "variantId": format!("var_{}", a), "quantity": 0 }]),
        json!([{ "variantId": format!("var_{}", a), "quantity": -1 }]),
    ] {
        let body = inv.reserve("ord_bad", bad.clone(), service).await;
        assert_eq!(
            body["data"]["reserveStock"]["userErrors"][0]["code"], "INVALID_INPUT",
            "{bad}: {body}"
        );
    }
}

#[tokio::test]
async fn released_and_expired_reservations_give_their_units_back() {
    let inv = Inv::start().await;
    let p = inv.product();
    let berlin = inv.warehouse("BER-1").await;
    inv.adjust(&p, &berlin, "RESTOCK", 5, "k").await;
    let service = Some(inv.service.as_str());
    inv.reserve(
        "ord_r",
        json!([{ "variantId": format!("var_{}", p), "quantity": 2 }]),
        service,
    )
    .await;
    assert_eq!(inv.availability(&p, None).await["availableQuantity"], 3);
    assert_eq!(
        inv.transition("releaseReservation", "ord_r").await["reservation"]["status"],
        "RELEASED"
    );
    assert_eq!(
        inv.transition("releaseReservation", "ord_r").await["reservation"]["status"],
        "RELEASED"
    );
    assert_eq!(inv.availability(&p, None).await["availableQuantity"], 5);

    // A hold whose time ran out is released by the expiry task's pass.
    let store = &inv.app.subgraph.service.store;
    store
        .reserve(
            "ord_old",
            &[(format!("var_{p}"), 4)],
            primitives::time::now_millis() - 1,
        )
        .await
        .unwrap();
    assert_eq!(inv.availability(&p, None).await["availableQuantity"], 1);
    assert_eq!(inv.app.subgraph.service.expire_due().await.unwrap(), 1);
    assert_eq!(inv.availability(&p, None).await["availableQuantity"], 5);
    assert_eq!(
        inv.transition("confirmReservation", "ord_old").await["userErrors"][0]["code"],
        "RESERVATION_CLOSED"
    );
}

/// A product with two sizes: stock is counted per size, the product's availability sums them,
/// and a product with options needs the variant named.
#[tokio::test]
async fn stock_is_counted_per_variant_and_summed_per_product() {
    let inv = Inv::start().await;
    let p = inv.product();
    let catalog_admin = inv.catalog.tokens.admin("usr_admin");
    let options = inv
        .catalog
        .data(
            "mutation($p: ID!) { setProductOptions(input: { productId: $p,
                options: [{ name: \"Size\", values: [\"S\", \"M\"] }] }) { userErrors { code } } }",
            json!({ "p": p }),
            Some(&catalog_admin),
        )
        .await;
    assert_eq!(options["setProductOptions"]["userErrors"], json!([]));
    let made = inv
        .catalog
        .data(
            "mutation($p: ID!) { createProductVariants(input: { productId: $p, variants: [
                { sku: \"INV-S\", optionValues: [{ name: \"Size\", value: \"S\" }],
                  price: { amount: \"5.00\", currencyCode: USD } },
                { sku: \"INV-M\", optionValues: [{ name: \"Size\", value: \"M\" }],
                  price: { amount: \"5.00\", currencyCode: USD } }] }) {
                variants { id } userErrors { code } } }",
            json!({ "p": p }),
            Some(&catalog_admin),
        )
        .await;
    let small = made["createProductVariants"]["variants"][0]["id"].clone();
    let medium = made["createProductVariants"]["variants"][1]["id"].clone();
    let berlin = inv.warehouse("BER-1").await;

    // The product alone no longer names what to restock.
    assert_eq!(
        inv.adjust(&p, &berlin, "RESTOCK", 3, "by-product").await["userErrors"][0]["code"],
        "VARIANT_REQUIRED"
    );
    for (variant, units) in [(&small, 2), (&medium, 7)] {
        let adjusted = inv
            .as_admin(
                "mutation($input: AdjustStockInput!) { adjustStock(input: $input) {
                    adjustment { variant { id } product { id } onHandAfter } userErrors { code } } }",
                json!({ "input": { "variantId": variant, "warehouseId": berlin, "kind": "RESTOCK",
                    "quantity": units, "reason": "test", "idempotencyKey": format!("k-{variant}") } }),
            )
            .await;
        assert_eq!(
            adjusted["adjustStock"],
            json!({ "adjustment": { "variant": { "id": variant }, "product": { "id": p },
                "onHandAfter": units }, "userErrors": [] })
        );
    }
    // A variant of another product, or one the catalog does not have, is refused.
    let other = inv
        .as_admin(
            "mutation($input: AdjustStockInput!) { adjustStock(input: $input) { userErrors { code } } }",
            json!({ "input": { "variantId": format!("var_{}", inv.product()), "productId": p,
                "warehouseId": berlin, "kind": "RESTOCK", "quantity": 1, "reason": "test",
                "idempotencyKey": "k-other" } }),
        )
        .await;
    assert_eq!(
        other["adjustStock"]["userErrors"][0]["code"],
        "UNKNOWN_VARIANT"
    );

    assert_eq!(inv.availability(&p, None).await["availableQuantity"], 9);
    let variants = inv
        .app
        .data(
            "query($r: [_Any!]!) { _entities(representations: $r) {
                ... on ProductVariant { id availability { availableQuantity } } } }",
            json!({ "r": [{ "__typename": "ProductVariant", "id": small },
                { "__typename": "ProductVariant", "id": medium }] }),
            None,
        )
        .await;
    assert_eq!(
        variants["_entities"][0]["availability"]["availableQuantity"],
        2
    );
    assert_eq!(
        variants["_entities"][1]["availability"]["availableQuantity"],
        7
    );

    // Three of the small size cannot be held, whatever the medium has.
    let service = Some(inv.service.as_str());
    let short = inv
        .reserve(
            "ord_v",
            json!([{ "variantId": small, "quantity": 3 }]),
            service,
        )
        .await;
    assert_eq!(
        short["data"]["reserveStock"]["userErrors"][0]["code"],
        "INSUFFICIENT_STOCK"
    );
    let ledger = inv
        .as_admin(
            "query($v: ID!) { stockAdjustments(variantId: $v) { edges { node { delta } } } }",
            json!({ "v": medium }),
        )
        .await;
    assert_eq!(
        ledger["stockAdjustments"]["edges"],
        json!([{ "node": { "delta": 7 } }])
    );
}
