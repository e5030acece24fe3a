//! Reviews tests: the subgraph alone through its API (`spawn_app`, PostgreSQL); deliveries
//! arriving as shipping's events, reviews by those who received the product, the rating kept
//! exact through edits, moderation, reports and concurrent writers.

use event_bus::consumer::Handler;
use event_bus::Event;
use events::common::Line;
use events::shipping::ShipmentUpdated;
use kit::testing::{error_code, spawn_app_with, TestApp};
use reviews::consumers::shipment_updated::Deliveries;
use reviews::Reviews;
use serde_json::{json, Value};

/// The subgraph on PostgreSQL, or on SQLite (the embedded shop's database) when `sqlite`.
async fn start(sqlite: bool) -> TestApp<Reviews> {
    spawn_app_with::<Reviews>(move |env| {
        let env = env.set("REVIEWS_REPORT_THRESHOLD", "2");
        if sqlite {
            env.set("REVIEWS_DATABASE_URL", storage::db::testing::sqlite_url())
        } else {
            env
        }
    })
    .await
}

fn delivered(customer: &str, products: &[&str]) -> Event {
    Event::new(
        "shipping",
        &ShipmentUpdated {
            shipment_id: primitives::id::new_id("shp"),
            order_id: primitives::id::new_id("ord"),
            order_number: "SO-1".into(),
            customer_id: customer.into(),
            email: format!("{customer}@example.com"),
            carrier: "ups".into(),
            tracking_number: "1Z999".into(),
            tracking_url: None,
            status: "delivered".into(),
            previous_status: Some("in_transit".into()),
            description: "Delivered".into(),
            lines: products
                .iter()
                .map(|p| Line {
                    product_id: p.to_string(),
                    variant_id: None,
                    quantity: 1,
                })
                .collect(),
            order_delivered: true,
        },
    )
}

async fn deliver(app: &TestApp<Reviews>, event: &Event) {
    Deliveries(app.subgraph.service.store.clone())
        .handle(event)
        .await
        .unwrap();
}

const REVIEW: &str = "id rating title status verifiedBuyer helpfulCount holdReason author { id }";

async fn write(
    app: &TestApp<Reviews>,
    token: &str,
    product: &str,
    rating: i64,
    title: &str,
    body: &str,
) -> Value {
    app.data(
        &format!("mutation($input: WriteReviewInput!) {{ writeReview(input: $input) {{
            review {{ {REVIEW} }} userErrors {{ field code message }} }} }}"),
        json!({ "input": { "productId": product, "rating": rating, "title": title, "body": body } }),
        Some(token),
    )
    .await["writeReview"]
        .clone()
}

async fn mutate(
    app: &TestApp<Reviews>,
    token: &str,
    name: &str,
    input_type: &str,
    input: Value,
) -> Value {
    app.data(
        &format!(
            "mutation($input: {input_type}!) {{ {name}(input: $input) {{
            review {{ {REVIEW} }} userErrors {{ field code message }} }} }}"
        ),
        json!({ "input": input }),
        Some(token),
    )
    .await[name]
        .clone()
}

/// The product's rating as anyone sees it: (count, average, histogram counts).
async fn rating(app: &TestApp<Reviews>, product: &str) -> (i64, Value, Vec<i64>) {
    let data = app
        .data(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product {
                rating { count average histogram { stars count } } } } }",
            json!({ "r": [{ "__typename": "Product", "id": product }] }),
            None,
        )
        .await;
    let rating = &data["_entities"][0]["rating"];
    let histogram = rating["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_i64().unwrap())
        .collect();
    (
        rating["count"].as_i64().unwrap(),
        rating["average"].clone(),
        histogram,
    )
}

/// The product's published reviews in `sort` order: their titles.
async fn listed(app: &TestApp<Reviews>, product: &str, sort: &str) -> Vec<String> {
    let data = app
        .data(
            &format!(
                "query($r: [_Any!]!) {{ _entities(representations: $r) {{ ... on Product {{
                reviews(first: 10, sort: {sort}) {{ edges {{ node {{ title }} }} }} }} }} }}"
            ),
            json!({ "r": [{ "__typename": "Product", "id": product }] }),
            None,
        )
        .await;
    data["_entities"][0]["reviews"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["title"].as_str().unwrap().to_string())
        .collect()
}

fn code(payload: &Value) -> (&str, &Value) {
    (
        payload["userErrors"][0]["code"]
            .as_str()
            .unwrap_or("<none>"),
        &payload["userErrors"][0]["field"],
    )
}

#[tokio::test]
async fn customers_who_received_a_product_review_it_once_and_its_rating_follows_every_change() {
    reviews_and_rating(start(false).await).await;
}

#[tokio::test]
async fn the_same_on_sqlite() {
    reviews_and_rating(start(true).await).await;
    thirty_at_once(start(true).await).await;
}

async fn reviews_and_rating(app: TestApp<Reviews>) {
    let (ada, bob, cy, dee) = ("usr_ada", "usr_bob", "usr_cy", "usr_dee");
    let token = |user: &str| app.tokens.customer(user);
    let admin = app.tokens.admin("usr_admin");

    // Not received yet: refused.
    let early = write(&app, &token(ada), "prod_lamp", 5, "Great", "Bright.").await;
    assert_eq!(
        code(&early),
        ("NOT_RECEIVED", &json!(["input", "productId"]))
    );

    // The delivery event arrives twice.
    let event = delivered(ada, &["prod_lamp", "prod_bulb"]);
    deliver(&app, &event).await;
    deliver(&app, &event).await;
    for user in [bob, cy] {
        deliver(&app, &delivered(user, &["prod_lamp"])).await;
    }

    let first = write(
        &app,
        &token(ada),
        "prod_lamp",
        5,
        "Great lamp",
        "Bright and warm.",
    )
    .await;
    assert_eq!(first["userErrors"], json!([]), "{first:#}");
    let review = &first["review"];
    assert_eq!(
        (review["status"].as_str(), &review["verifiedBuyer"]),
        (Some("PUBLISHED"), &json!(true))
    );
    let ada_review = review["id"].as_str().unwrap().to_string();
    assert_eq!(
        rating(&app, "prod_lamp").await,
        (1, json!("5.0"), vec![0, 0, 0, 0, 1])
    );

    // A second review, bad ratings, oversized or empty text: userErrors, nothing stored.
    let again = write(&app, &token(ada), "prod_lamp", 4, "Still great", "Yes.").await;
    assert_eq!(code(&again).0, "ALREADY_REVIEWED");
    for stars in [0, 6] {
        let bad = write(&app, &token(ada), "prod_bulb", stars, "Bulb", "ok").await;
        assert_eq!(
            code(&bad),
            ("INVALID_INPUT", &json!(["input", "rating"])),
            "{stars}"
        );
    }
    let huge = write(
        &app,
        &token(ada),
        "prod_bulb",
        4,
        "Bulb",
        &"a".repeat(100 * 1024),
    )
    .await;
    assert_eq!(code(&huge), ("INVALID_INPUT", &json!(["input", "body"])));
    let untitled = write(&app, &token(ada), "prod_bulb", 4, "   ", "ok").await;
    assert_eq!(
        code(&untitled),
        ("INVALID_INPUT", &json!(["input", "title"]))
    );
    let anonymous = app
        .graphql(
            "mutation { writeReview(input: { productId: \"prod_bulb\", rating: 4, title: \"t\", body: \"b\" }) { userErrors { code } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");

    // A review with a link waits for an admin: not shown, not counted, seen by its author.
    let held = write(
        &app,
        &token(bob),
        "prod_lamp",
        4,
        "Good",
        "More at https://example.com",
    )
    .await;
    assert_eq!(
        (
            held["review"]["status"].as_str(),
            held["review"]["holdReason"].as_str()
        ),
        (Some("PENDING"), Some("links"))
    );
    let bob_review = held["review"]["id"].as_str().unwrap().to_string();
    assert_eq!(rating(&app, "prod_lamp").await.0, 1);
    assert_eq!(listed(&app, "prod_lamp", "NEWEST").await, ["Great lamp"]);
    let stranger = app
        .data(
            "query($id: ID!) { review(id: $id) { id } }",
            json!({ "id": bob_review }),
            None,
        )
        .await;
    assert_eq!(stranger["review"], Value::Null);
    let pending = app
        .data(
            "{ pendingReviews(first: 10) { edges { node { id holdReason } } } }",
            json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(
        pending["pendingReviews"]["edges"][0]["node"]["id"],
        json!(bob_review)
    );
    let published = mutate(
        &app,
        &admin,
        "moderateReview",
        "ModerateReviewInput",
        json!({ "reviewId": bob_review, "decision": "PUBLISH" }),
    )
    .await;
    assert_eq!(published["review"]["status"], "PUBLISHED");
    assert_eq!(
        rating(&app, "prod_lamp").await,
        (2, json!("4.5"), vec![0, 0, 0, 1, 1])
    );

    // An edit moves the rating once; another's review cannot be edited.
    let edited = mutate(
        &app,
        &token(ada),
        "editReview",
        "EditReviewInput",
        json!({ "reviewId": ada_review, "rating": 1 }),
    )
    .await;
    assert_eq!(edited["review"]["rating"], 1, "{edited:#}");
    assert_eq!(
        rating(&app, "prod_lamp").await,
        (2, json!("2.5"), vec![1, 0, 0, 1, 0])
    );
    let theirs = mutate(
        &app,
        &token(bob),
        "editReview",
        "EditReviewInput",
        json!({ "reviewId": ada_review, "rating": 5 }),
    )
    .await;
    assert_eq!(code(&theirs).0, "NOT_FOUND");

    // Helpful votes: once per reader, never one's own.
    for _ in 0..2 {
        let voted = mutate(
            &app,
            &token(cy),
            "voteReviewHelpful",
            "ReviewIdInput",
            json!({ "reviewId": bob_review }),
        )
        .await;
        assert_eq!(voted["review"]["helpfulCount"], 1);
    }
    let own = mutate(
        &app,
        &token(bob),
        "voteReviewHelpful",
        "ReviewIdInput",
        json!({ "reviewId": bob_review }),
    )
    .await;
    assert_eq!(code(&own).0, "OWN_REVIEW");
    assert_eq!(
        listed(&app, "prod_lamp", "MOST_HELPFUL").await,
        ["Good", "Great lamp"]
    );
    assert_eq!(
        listed(&app, "prod_lamp", "RATING_LOW").await,
        ["Great lamp", "Good"]
    );
    assert_eq!(
        listed(&app, "prod_lamp", "RATING_HIGH").await,
        ["Good", "Great lamp"]
    );

    // Two reports (the threshold here) hide a review until an admin decides.
    let report = |user: &str| {
        let token = token(user);
        let app = &app;
        let review = ada_review.clone();
        async move {
            app.data(
                "mutation($input: ReportReviewInput!) { reportReview(input: $input) { reported userErrors { code } } }",
                json!({ "input": { "reviewId": review, "reason": "rude" } }),
                Some(&token),
            )
            .await["reportReview"]
                .clone()
        }
    };
    assert_eq!(report(cy).await["reported"], true);
    assert_eq!(
        report(cy).await["reported"],
        true,
        "a repeat is taken and not counted"
    );
    assert_eq!(rating(&app, "prod_lamp").await.0, 2);
    assert_eq!(report(dee).await["reported"], true);
    assert_eq!(
        rating(&app, "prod_lamp").await,
        (1, json!("4.0"), vec![0, 0, 0, 1, 0])
    );
    assert_eq!(listed(&app, "prod_lamp", "NEWEST").await, ["Good"]);
    let mine = app
        .data(
            "query($id: ID!) { review(id: $id) { status holdReason } }",
            json!({ "id": ada_review }),
            Some(&token(ada)),
        )
        .await;
    assert_eq!(
        mine["review"],
        json!({ "status": "PENDING", "holdReason": "reported" })
    );
    mutate(
        &app,
        &admin,
        "moderateReview",
        "ModerateReviewInput",
        json!({ "reviewId": ada_review, "decision": "REJECT" }),
    )
    .await;
    assert_eq!(rating(&app, "prod_lamp").await.0, 1);

    // User.reviews: all for the author, the published ones for others.
    let of_ada = |viewer: Option<String>| {
        let app = &app;
        async move {
            app.data(
                "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { reviews(first: 10) { edges { node { status } } } } } }",
                json!({ "r": [{ "__typename": "User", "id": "usr_ada" }] }),
                viewer.as_deref(),
            )
            .await["_entities"][0]["reviews"]["edges"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(of_ada(Some(token(ada))).await, 1);
    assert_eq!(of_ada(None).await, 0);
}

#[tokio::test]
async fn thirty_customers_reviewing_at_once_leave_an_exact_rating() {
    thirty_at_once(start(false).await).await;
}

async fn thirty_at_once(app: TestApp<Reviews>) {
    let users: Vec<String> = (0..30).map(|i| format!("usr_{i}")).collect();
    for user in &users {
        deliver(&app, &delivered(user, &["prod_mug"])).await;
    }
    let writes = users.iter().enumerate().map(|(i, user)| {
        let token = app.tokens.customer(user);
        let app = &app;
        async move {
            write(
                app,
                &token,
                "prod_mug",
                (i % 5) as i64 + 1,
                "Mug",
                "Holds tea.",
            )
            .await
        }
    });
    let results = futures_util::future::join_all(writes).await;
    assert!(
        results.iter().all(|r| r["userErrors"] == json!([])),
        "{results:#?}"
    );
    assert_eq!(
        rating(&app, "prod_mug").await,
        (30, json!("3.0"), vec![6, 6, 6, 6, 6])
    );

    // One customer sending the same review ten times at once gets one review.
    deliver(&app, &delivered("usr_eager", &["prod_mug"])).await;
    let token = app.tokens.customer("usr_eager");
    let repeats = futures_util::future::join_all(
        (0..10).map(|_| write(&app, &token, "prod_mug", 5, "Mug!", "Again.")),
    )
    .await;
    let taken = repeats
        .iter()
        .filter(|r| r["userErrors"] == json!([]))
        .count();
    let refused = repeats
        .iter()
        .filter(|r| r["userErrors"][0]["code"] == "ALREADY_REVIEWED")
        .count();
    assert_eq!((taken, refused), (1, 9));
    assert_eq!(rating(&app, "prod_mug").await.0, 31);

    // Twenty helpful votes by one reader at once count once.
    let review = repeats
        .iter()
        .find(|r| r["userErrors"] == json!([]))
        .unwrap()["review"]["id"]
        .clone();
    let voter = app.tokens.customer("usr_0");
    futures_util::future::join_all((0..20).map(|_| {
        mutate(
            &app,
            &voter,
            "voteReviewHelpful",
            "ReviewIdInput",
            json!({ "reviewId": review }),
        )
    }))
    .await;
    let after = app
        .data(
            "query($id: ID!) { review(id: $id) { helpfulCount } }",
            json!({ "id": review }),
            None,
        )
        .await;
    assert_eq!(after["review"]["helpfulCount"], 1);
}

#[tokio::test]
async fn several_products_get_their_own_first_page_of_reviews_in_one_request() {
    first_pages_of_several_products(start(false).await).await;
}

#[tokio::test]
async fn several_products_first_pages_on_sqlite() {
    first_pages_of_several_products(start(true).await).await;
}

/// A product list asking each product for its reviews: every product gets its own reviews in
/// the asked order (the first pages load together), and the next page follows from its cursor.
async fn first_pages_of_several_products(app: TestApp<Reviews>) {
    let products = ["prod_desk", "prod_chair", "prod_shelf"];
    // prod_desk: 3 reviews, prod_chair: 1, prod_shelf: none.
    let stars = [("usr_a", 2), ("usr_b", 5), ("usr_c", 4)];
    for (user, rating) in stars {
        deliver(&app, &delivered(user, &products)).await;
        let token = app.tokens.customer(user);
        let title = format!("desk {rating}");
        let desk = write(&app, &token, "prod_desk", rating, &title, "Solid.").await;
        assert_eq!(desk["userErrors"], json!([]));
    }
    let token = app.tokens.customer("usr_a");
    let chair = write(&app, &token, "prod_chair", 3, "chair 3", "Fine.").await;
    assert_eq!(chair["userErrors"], json!([]));

    let page = |after: Option<&str>| {
        let representations: Vec<Value> = products
            .iter()
            .map(|id| json!({ "__typename": "Product", "id": id }))
            .collect();
        let after = after.map(str::to_string);
        let app = &app;
        async move {
            app.data(
                "query($r: [_Any!]!, $after: String) { _entities(representations: $r) {
                    ... on Product { id reviews(first: 2, sort: RATING_HIGH, after: $after) {
                        edges { node { title } } pageInfo { hasNextPage endCursor } } } } }",
                json!({ "r": representations, "after": after }),
                None,
            )
            .await["_entities"]
                .clone()
        }
    };
    let titles = |product: &Value| -> Vec<String> {
        product["reviews"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["title"].as_str().unwrap().to_string())
            .collect()
    };
    let first = page(None).await;
    assert_eq!(titles(&first[0]), ["desk 5", "desk 4"]);
    assert_eq!(first[0]["reviews"]["pageInfo"]["hasNextPage"], json!(true));
    assert_eq!(titles(&first[1]), ["chair 3"]);
    assert_eq!(first[1]["reviews"]["pageInfo"]["hasNextPage"], json!(false));
    assert!(titles(&first[2]).is_empty());

    let cursor = first[0]["reviews"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_string();
    let next = page(Some(&cursor)).await;
    assert_eq!(titles(&next[0]), ["desk 2"]);
    assert_eq!(next[0]["reviews"]["pageInfo"]["hasNextPage"], json!(false));
}

/// A review records the variant its author received (reviews stay per product); a delivery
/// from before variants counts as the product's default variant.
#[tokio::test]
async fn a_review_records_the_variant_its_author_received() {
    for sqlite in [false, true] {
        let app = start(sqlite).await;
        let (ada, bob) = (
            app.tokens.customer("usr_ada"),
            app.tokens.customer("usr_bob"),
        );
        let mut sized = delivered("usr_ada", &["prod_tee"]);
        let mut shipment: ShipmentUpdated = sized.decode().unwrap();
        shipment.lines[0].variant_id = Some("var_tee_m_navy".into());
        sized = Event::new("shipping", &shipment);
        deliver(&app, &sized).await;
        deliver(&app, &delivered("usr_bob", &["prod_tee"])).await;
        for (token, expected) in [(&ada, "var_tee_m_navy"), (&bob, "var_prod_tee")] {
            let written = app
                .data(
                    "mutation($input: WriteReviewInput!) { writeReview(input: $input) {
                        review { variant { id } } userErrors { code } } }",
                    json!({ "input": { "productId": "prod_tee", "rating": 5, "title": "Soft", "body": "Fits well." } }),
                    Some(token),
                )
                .await;
            assert_eq!(
                written["writeReview"]["review"]["variant"]["id"], expected,
                "sqlite {sqlite}: {written:#}"
            );
        }
    }
}
