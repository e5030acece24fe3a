//! Federation v2 semantics: abstract types across subgraphs, `@interfaceObject`, several and
//! composite keys, `@override`, `@inaccessible`, shared root fields, `@skip`/`@include`,
//! `__typename` and introspection of the API schema.

use serde_json_bytes::json;

use crate::common::TestGateway;

#[tokio::test]
async fn unions_and_interfaces_resolve_per_runtime_type_across_subgraphs() {
    let gw = TestGateway::start("abstract").await;
    let response = gw
        .query(
            r#"{
              media {
                __typename
                ... on Book { title price }
                ... on Magazine { title issue }
              }
              nodes { id ...BookPrice }
            }
            fragment BookPrice on Book { price }"#,
        )
        .await;
    assert_eq!(
        response,
        json!({"data": {
            "media": [
                {"__typename": "Book", "title": "Dune", "price": 12},
                {"__typename": "Magazine", "title": "Wired", "issue": 42},
                {"__typename": "Book", "title": "Emma", "price": 8}
            ],
            "nodes": [{"id": "m1"}, {"id": "b1", "price": 12}]
        }})
    );
}

#[tokio::test]
async fn interface_fields_and_typename_without_fragments() {
    let gw = TestGateway::start("abstract").await;
    let response = gw
        .query(r#"{ nodes { __typename id } one: node(id: "b1") { id } }"#)
        .await;
    assert_eq!(
        response["data"]["nodes"],
        json!([{"__typename": "Magazine", "id": "m1"}, {"__typename": "Book", "id": "b1"}])
    );
}

#[tokio::test]
async fn interface_object_fields_reach_the_concrete_types() {
    let gw = TestGateway::start("interface-object").await;
    let response = gw
        .query(
            r#"{
              recentlyActive {
                __typename
                id
                name
                lastSeen
                ... on Customer { email }
                ... on Admin { level }
              }
              admins { name lastSeen }
            }"#,
        )
        .await;
    assert_eq!(
        response,
        json!({"data": {
            "recentlyActive": [
                {"__typename": "Customer", "id": "c1", "name": "Carol", "lastSeen": "2026-11-20", "email": "carol@example.com"},
                {"__typename": "Admin", "id": "a1", "name": "Root", "lastSeen": "2026-11-21", "level": 9}
            ],
            "admins": [{"name": "Root", "lastSeen": "2026-11-21"}]
        }})
    );
}

#[tokio::test]
async fn alternative_and_composite_nested_keys() {
    let gw = TestGateway::start("keys").await;
    let response = gw
        .query("{ users { name plan membership { region plan { code } seats } } }")
        .await;
    assert_eq!(
        response,
        json!({"data": {"users": [
            {"name": "Ann", "plan": "pro", "membership": {"region": "eu", "plan": {"code": "pro"}, "seats": 50}},
            {"name": "Bob", "plan": "free", "membership": {"region": "us", "plan": {"code": "free"}, "seats": 1}},
            {"name": "Cid", "plan": null, "membership": null}
        ]}})
    );
    // users, billing by email, limits by the composite key: one request each.
    let counts = gw.request_counts();
    assert_eq!(
        (counts["users"], counts["billing"], counts["limits"]),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn override_moves_a_field_and_inaccessible_parts_are_hidden() {
    let gw = TestGateway::start("overrides").await;
    let response = gw.query("{ products { name price onSale } version }").await;
    assert_eq!(
        response["data"]["products"],
        json!([
            {"name": "Lamp", "price": 25, "onSale": true},
            {"name": "Desk", "price": 180, "onSale": false}
        ])
    );
    assert!(response["data"]["version"]
        .as_str()
        .unwrap()
        .ends_with("-1"));

    let hidden = gw.query("{ products { costPrice } }").await;
    assert_eq!(
        hidden["errors"][0]["extensions"]["code"],
        json!("GRAPHQL_VALIDATION_FAILED")
    );
    let hidden_root = gw.query("{ internalStats { count } }").await;
    assert_eq!(
        hidden_root["errors"][0]["extensions"]["code"],
        json!("GRAPHQL_VALIDATION_FAILED")
    );
}

#[tokio::test]
async fn an_inaccessible_enum_value_from_a_subgraph_becomes_a_null_with_an_error() {
    let gw = TestGateway::start("overrides").await;
    let response = gw.query("{ products { id status } }").await;
    // Product.status is non-null and DRAFT is not in the API schema: Desk becomes... the
    // list item is non-null, so the whole list, and then data, become null.
    assert_eq!(response["data"], json!(null));
    assert_eq!(
        response["errors"][0]["path"],
        json!(["products", 1, "status"])
    );
}

#[tokio::test]
async fn introspection_shows_the_api_schema_only() {
    let gw = TestGateway::start("overrides").await;
    let response = gw
        .query(
            r#"{
              product: __type(name: "Product") { fields { name } }
              status: __type(name: "Status") { enumValues { name } }
              stats: __type(name: "Stats") { name }
              schema: __schema { types { name } directives { name } }
            }"#,
        )
        .await;
    let data = &response["data"];
    assert_eq!(
        data["product"]["fields"],
        json!([{"name": "id"}, {"name": "name"}, {"name": "price"}, {"name": "status"}, {"name": "onSale"}])
    );
    assert_eq!(
        data["status"]["enumValues"],
        json!([{"name": "ACTIVE"}, {"name": "ARCHIVED"}])
    );
    assert_eq!(data["stats"], json!(null));
    let types: Vec<&str> = data["schema"]["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        !types
            .iter()
            .any(|t| t.starts_with("join__") || t.starts_with("link__")),
        "{types:?}"
    );
    let directives = data["schema"]["directives"].to_string();
    assert!(!directives.contains("join__"), "{directives}");
}

#[tokio::test]
async fn introspection_can_be_switched_off() {
    let gw = TestGateway::start_with("overrides", Default::default(), |config| {
        config.introspection = false;
    })
    .await;
    let response = gw.query("{ __schema { queryType { name } } }").await;
    assert_eq!(
        response["errors"][0]["extensions"]["code"],
        json!("INTROSPECTION_DISABLED")
    );
    // __typename is not introspection of the schema and keeps working.
    let typename = gw.query("{ __typename }").await;
    assert_eq!(typename, json!({"data": {"__typename": "Query"}}));
}

#[tokio::test]
async fn skip_and_include_with_variables_decide_which_fetches_run() {
    let gw = TestGateway::start("abstract").await;
    let query = r#"query Q($withPrice: Boolean!, $noIssue: Boolean!) {
      media {
        ... on Book { title price @include(if: $withPrice) }
        ... on Magazine { issue @skip(if: $noIssue) }
      }
    }"#;
    let without = gw
        .query_with(query, json!({"withPrice": false, "noIssue": true}))
        .await;
    assert_eq!(
        without,
        json!({"data": {"media": [{"title": "Dune"}, {}, {"title": "Emma"}]}})
    );
    // Only the variables a fetch uses go to a subgraph.
    for request in gw.requests_to("library") {
        let query = request["query"].as_str().unwrap();
        for name in request["variables"].as_object().unwrap().keys() {
            assert!(
                query.contains(&format!("${}", name.as_str())),
                "{name:?} unused in {query}"
            );
        }
    }

    let with = gw
        .query_with(query, json!({"withPrice": true, "noIssue": false}))
        .await;
    assert_eq!(
        with,
        json!({"data": {"media": [
            {"title": "Dune", "price": 12}, {"issue": 42}, {"title": "Emma", "price": 8}
        ]}})
    );
}

fn requires_resolvers() -> std::collections::HashMap<String, crate::common::fixture::Resolver> {
    use crate::common::resolver;
    let shipping = resolver(|call| match (call.type_name, call.field) {
        ("Product", "shippingCost") => {
            let price = call.parent.get("price")?.as_i64()?;
            let weight = call.parent.get("weight")?.as_i64()?;
            // A missing (null) dimensions object counts as size 0.
            let size = call
                .parent
                .get("dimensions")
                .and_then(|d| d.get("size"))
                .and_then(|s| s.as_i64())
                .unwrap_or(0);
            Some(Ok(json!(price / 10 + weight * 2 + size)))
        }
        _ => None,
    });
    let insurance = resolver(|call| match (call.type_name, call.field) {
        ("Product", "insuredShipping") => {
            let cost = call.parent.get("shippingCost")?.as_i64()?;
            Some(Ok(json!(cost + 5)))
        }
        _ => None,
    });
    std::collections::HashMap::from([
        ("shipping".to_string(), shipping),
        ("insurance".to_string(), insurance),
    ])
}

#[tokio::test]
async fn requires_with_nested_fields_and_chains_of_requires() {
    let gw = TestGateway::start_with("requires", requires_resolvers(), |_| {}).await;
    let response = gw.query("{ products { id insuredShipping } }").await;
    assert_eq!(
        response,
        json!({"data": {"products": [
            {"id": "p1", "insuredShipping": 10 + 4 + 3 + 5},
            {"id": "p2", "insuredShipping": 4 + 20 + 5},
            {"id": "p3", "insuredShipping": 2 + 1 + 5}
        ]}})
    );
    // products -> shipping (needs price, weight, dimensions) -> insurance (needs shippingCost).
    let shipping_request = gw.requests_to("shipping")[0].clone();
    assert_eq!(
        shipping_request["variables"]["representations"][0],
        json!({"__typename": "Product", "price": 100, "weight": 2, "dimensions": {"size": 3}, "id": "p1"})
    );
    let both = gw
        .query("{ products { shippingCost insuredShipping } }")
        .await;
    assert_eq!(
        both["data"]["products"][1],
        json!({"shippingCost": 24, "insuredShipping": 29})
    );
}

#[tokio::test]
async fn federation_1_extend_and_external_style_subgraphs() {
    let gw = TestGateway::start("fed1").await;
    let response = gw
        .query("{ users { name karma } topUser { name karma } }")
        .await;
    assert_eq!(
        response,
        json!({"data": {
            "users": [{"name": "Ann", "karma": 3}, {"name": "Bob", "karma": 42}],
            "topUser": {"name": "Bob", "karma": 42}
        }})
    );
}

#[tokio::test]
async fn entities_whose_key_could_not_be_resolved_are_not_sent_on() {
    let gw = TestGateway::start("null-keys").await;
    let response = gw
        .query("{ shelves { book { isbn author { name } } } }")
        .await;
    assert_eq!(
        response,
        json!({"data": {"shelves": [
            {"book": {"isbn": "i1", "author": {"name": "Alice"}}},
            {"book": {"isbn": "i2", "author": {"name": "Bob"}}},
            {"book": {"isbn": "i3", "author": null}},
            {"book": null}
        ]}})
    );
    // i3 has no id (registry does not know it), so authors only hears of books 1 and 2.
    let representations = gw.requests_to("authors")[0]["variables"]["representations"].clone();
    assert_eq!(
        representations,
        json!([{"__typename": "Book", "id": "1"}, {"__typename": "Book", "id": "2"}])
    );
}

#[tokio::test]
async fn same_response_key_with_different_shapes_is_invalid_and_aliases_fix_it() {
    let gw = TestGateway::start("mismatch").await;
    // String vs [String] under one response key fails the spec's SameResponseShape rule.
    let invalid = gw
        .query("{ items { id ... on Gadget { label } ... on Widget { label } } }")
        .await;
    assert_eq!(
        invalid["errors"][0]["extensions"]["code"],
        json!("GRAPHQL_VALIDATION_FAILED")
    );
    assert_eq!(gw.request_counts()["widgets"], 0);

    let response = gw
        .query(
            "{ items { id ... on Gadget { label stock } ... on Widget { labels: label stock } } }",
        )
        .await;
    assert_eq!(
        response,
        json!({"data": {"items": [
            {"id": "g1", "label": "one", "stock": 3},
            {"id": "w1", "labels": ["a", "b"], "stock": 0}
        ]}})
    );
}

#[tokio::test]
async fn unions_whose_members_differ_per_subgraph() {
    let gw = TestGateway::start("union-intersection").await;
    let cases = [
        ("{ media { ... on Movie { title } } }", json!({"media": {}})),
        ("{ media { ... on Book { title } } }", json!({"media": {"title": "Walden"}})),
        (
            "{ media { ... on Book { title } ... on Movie { title } } }",
            json!({"media": {"title": "Walden"}}),
        ),
        (
            "{ viewer { media { __typename ... on Song { title } ... on Book { title musicNote cinemaNote } } song { __typename ... on Song { title musicNote } ... on Movie { title } } } }",
            json!({"viewer": {
                "media": {"__typename": "Book", "title": "Walden", "musicNote": "music: Walden", "cinemaNote": "cinema: Walden"},
                "song": {"__typename": "Song", "title": "Blue Moon", "musicNote": "music: Blue Moon"}
            }}),
        ),
        (
            "{ musicMedia { ... on Movie { title cinemaNote } } cinemaMedia { ... on Movie { title cinemaNote } } }",
            json!({"musicMedia": {}, "cinemaMedia": {"title": "Vertigo", "cinemaNote": "cinema: Vertigo"}}),
        ),
        (
            "{ musicMedia { ... on Book { title musicNote cinemaNote } } }",
            json!({"musicMedia": {"title": "Walden", "musicNote": "music: Walden", "cinemaNote": "cinema: Walden"}}),
        ),
    ];
    for (query, data) in cases {
        let response = gw.query(query).await;
        assert_eq!(response, json!({ "data": data }), "{query}");
    }
}

#[tokio::test]
async fn interface_object_fields_with_requires() {
    let activity = crate::common::resolver(|call| match (call.type_name, call.field) {
        ("Account", "handle") => {
            let name = call.parent.get("name")?.as_str()?;
            Some(Ok(json!(format!("@{}", name.to_lowercase()))))
        }
        _ => None,
    });
    let resolvers = std::collections::HashMap::from([("activity".to_string(), activity)]);
    let gw = TestGateway::start_with("interface-object", resolvers, |_| {}).await;
    let response = gw
        .query("{ recentlyActive { handle ... on Admin { level } } admins { handle } }")
        .await;
    assert_eq!(
        response,
        json!({"data": {
            "recentlyActive": [{"handle": "@carol"}, {"handle": "@root", "level": 9}],
            "admins": [{"handle": "@root"}]
        }})
    );
    // The interface object is addressed by the interface's name, with the required name.
    let sent: Vec<serde_json_bytes::Value> = gw
        .requests_to("activity")
        .iter()
        .flat_map(|r| {
            r["variables"]["representations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    assert!(
        sent.contains(&json!({"__typename": "Account", "name": "Root", "id": "a1"})),
        "{sent:?}"
    );
}

#[tokio::test]
async fn provides_on_an_interface_field_with_type_conditions() {
    let gw = TestGateway::start("provides-abstract").await;
    let provided = gw
        .query("{ feed { id ... on Book { name } ... on Movie { name } } }")
        .await;
    // The names come from the feed (provided), not from the catalog.
    assert_eq!(
        provided,
        json!({"data": {"feed": [{"id": "b1", "name": "Ulysses"}, {"id": "m1", "name": "Alien"}]}})
    );
    assert_eq!(gw.request_counts()["catalog"], 0);

    let mixed = gw
        .query("{ feed { ... on Book { name pages } ... on Movie { name } } }")
        .await;
    assert_eq!(
        mixed,
        json!({"data": {"feed": [{"name": "Ulysses", "pages": 730}, {"name": "Alien"}]}})
    );
    let representations = gw.requests_to("catalog")[0]["variables"]["representations"].clone();
    assert_eq!(representations, json!([{"__typename": "Book", "id": "b1"}]));
}
