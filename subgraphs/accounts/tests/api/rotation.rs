//! Rotating the signing key: tokens signed before keep working, new ones use the new key.

use accounts::Accounts;
use kit::testing::{spawn_app_with, TestApp};
use serde_json::{json, Value};

/// A replica of accounts on the database at `url`.
async fn start(url: &str) -> TestApp<Accounts> {
    let url = url.to_string();
    spawn_app_with::<Accounts>(|env| env.set("ACCOUNTS_DATABASE_URL", url)).await
}

async fn graphql(app: &TestApp<Accounts>, query: &str, token: Option<&str>) -> Value {
    app.graphql(query, json!({}), token).await
}

async fn jwks_kids(app: &TestApp<Accounts>) -> Vec<String> {
    let jwks: Value = reqwest::get(format!("http://{}/.well-known/jwks.json", app.address))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn tokens_signed_before_a_rotation_keep_verifying() {
    let url = storage::db::testing::postgres_url().await;
    let old = start(&url).await;
    let registered = graphql(
        &old,
        "mutation { register(input: { email: \"rot@example.com\", password: \"rotation-pass-1\", name: \"Rot\" }) { accessToken } }",
        None,
    )
    .await;
    let old_token = registered["data"]["register"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let old_kids = jwks_kids(&old).await;
    assert_eq!(old_kids, vec![kid_of(&old_token)]);

    let new_kid = accounts::rotate_signing_key(&url).await.unwrap();
    let new = start(&url).await;
    assert_eq!(
        jwks_kids(&new).await,
        vec![new_kid.clone(), old_kids[0].clone()]
    );

    // The new replica accepts the old token and signs new ones with the new key.
    let me = graphql(&new, "{ me { name } }", Some(&old_token)).await;
    assert_eq!(me["data"]["me"]["name"], "Rot", "{me}");
    let login = graphql(
        &new,
        "mutation { login(input: { email: \"rot@example.com\", password: \"rotation-pass-1\" }) { accessToken } }",
        None,
    )
    .await;
    let new_token = login["data"]["login"]["accessToken"].as_str().unwrap();
    assert_eq!(kid_of(new_token), new_kid);
}
