//! Rotating the signing key: tokens signed before keep working, new ones use the new key.

use accounts::{AccountsApp, AccountsConfig};
use serde_json::{json, Value};

async fn start(url: &str) -> (String, tokio::task::JoinHandle<std::io::Result<()>>) {
    let app = AccountsApp::build(&AccountsConfig::for_database(url))
        .await
        .unwrap();
    let base = format!("http://{}", app.local_addr());
    (base, tokio::spawn(app.run_until(std::future::pending())))
}

async fn graphql(base: &str, query: &str, token: Option<&str>) -> Value {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().json().await.unwrap()
}

async fn jwks_kids(base: &str) -> Vec<String> {
    let jwks: Value = reqwest::get(format!("{base}/.well-known/jwks.json"))
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
    let url = kit::db::testing::postgres_url().await;
    let (old, old_server) = start(&url).await;
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
    let (new, new_server) = start(&url).await;
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
    old_server.abort();
    new_server.abort();
}
