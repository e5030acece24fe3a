//! The public gateway benchmark's workload (graphql-hive/graphql-gateways-benchmark): its deep
//! `TestQuery` and data of the same shape as its four subgraphs' (6 users, 9 products of which
//! the top 5 are listed, 11 reviews; every user's reviews are the first two, every review's
//! author is the first user), whose SDLs and supergraph are in `tests/fixtures/gateway-bench`.
//! The answer is about 88 KB. Shared by the gateway benchmark and the tests that run its query.
#![allow(dead_code)]

use apollo_compiler::response::JsonValue;
use serde_json_bytes::json;

pub const TEST_QUERY: &str = r#"
fragment User on User {
  id
  username
  name
}

fragment Review on Review {
  id
  body
}

fragment Product on Product {
  inStock
  name
  price
  shippingEstimate
  upc
  weight
}

query TestQuery {
  users {
    ...User
    reviews {
      ...Review
      product {
        ...Product
        reviews {
          ...Review
          author {
            ...User
            reviews {
              ...Review
              product {
                ...Product
              }
            }
          }
        }
      }
    }
  }
  topProducts {
    ...Product
    reviews {
      ...Review
      author {
        ...User
        reviews {
          ...Review
          product {
            ...Product
          }
        }
      }
    }
  }
}
"#;

pub const USERS: usize = 6;
pub const PRODUCTS: usize = 9;
pub const TOP_PRODUCTS: usize = 5;

/// Each review's product (by index) and body length.
const REVIEWS: [(usize, usize); 11] = [
    (0, 445),
    (0, 300),
    (0, 285),
    (0, 150),
    (1, 445),
    (1, 300),
    (1, 285),
    (1, 150),
    (2, 150),
    (3, 150),
    (3, 900),
];

const LOREM: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod \
tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud \
exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in \
reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. ";

/// Data for each subgraph, in the order the subgraphs get ports.
pub fn subgraph_data() -> Vec<(&'static str, JsonValue)> {
    let user = |u: usize| {
        json!({"__typename": "User", "id": (u + 1).to_string(), "name": format!("User Number {u}"),
               "username": format!("user{u}"), "birthday": 1_234_567_890})
    };
    let price = |p: usize| [899, 1299, 15, 499, 1299, 6999, 3999, 100_000, 9999][p];
    let weight = |p: usize| [100, 1000, 20, 100, 1000, 300, 2000, 6000, 800][p];
    let product = |p: usize| {
        json!({"__typename": "Product", "upc": (p + 1).to_string(),
               "name": format!("Product {p}"), "price": price(p), "weight": weight(p)})
    };
    let body = |length: usize| LOREM.repeat(length / LOREM.len() + 1)[..length].to_string();
    // A review as the reviews subgraph lists it under a user (no author asked there).
    let short_review = |r: usize| {
        let (product, length) = REVIEWS[r];
        json!({"__typename": "Review", "id": (r + 1).to_string(), "body": body(length),
               "product": {"__typename": "Product", "upc": (product + 1).to_string()}})
    };
    let author_reviews = || vec![short_review(0), short_review(1)];
    let review = |r: usize| {
        let mut review = short_review(r);
        review["author"] = json!({"__typename": "User", "id": "1", "username": "user0",
                                  "reviews": author_reviews()});
        review
    };
    let users: Vec<JsonValue> = (0..USERS).map(user).collect();
    let products: Vec<JsonValue> = (0..PRODUCTS).map(product).collect();
    let accounts = json!({"Query": {"users": users.clone(), "me": users[0].clone()},
                          "entities": {"User": users}});
    let products_data = json!({"Query": {"topProducts": products[..TOP_PRODUCTS].to_vec()},
                               "entities": {"Product": products}});
    let inventory = json!({"entities": {"Product": (0..PRODUCTS).map(|p| {
        // The benchmark's rule: free above 1000, otherwise half the weight.
        let estimate = if price(p) > 1000 { 0 } else { weight(p) / 2 };
        json!({"__typename": "Product", "upc": (p + 1).to_string(), "inStock": p % 3 != 1,
               "shippingEstimate": estimate})
    }).collect::<Vec<_>>()}});
    let reviews = json!({"entities": {
        "User": (0..USERS).map(|u| json!({"__typename": "User", "id": (u + 1).to_string(),
            "reviews": author_reviews()}))
            .collect::<Vec<_>>(),
        "Product": (0..PRODUCTS).map(|p| json!({"__typename": "Product", "upc": (p + 1).to_string(),
            "reviews": (0..REVIEWS.len()).filter(|r| REVIEWS[*r].0 == p).map(review).collect::<Vec<_>>()}))
            .collect::<Vec<_>>(),
        "Review": (0..REVIEWS.len()).map(review).collect::<Vec<_>>()
    }});
    vec![
        ("accounts", accounts),
        ("inventory", inventory),
        ("products", products_data),
        ("reviews", reviews),
    ]
}
