//! `POST /oauth/token`: the OAuth2 client_credentials grant (RFC 6749, 4.4) for API clients.
//! Form fields `grant_type=client_credentials`, `client_id`, `client_secret`; the answer is
//! `{access_token, token_type: "Bearer", expires_in, scope}`, or an RFC 6749 error object.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::json;

use crate::service::{AccountError, AccountsService};

#[derive(Deserialize)]
pub struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

pub async fn token(
    State(service): State<Arc<AccountsService>>,
    Form(request): Form<TokenRequest>,
) -> Response {
    if request.grant_type.as_deref() != Some("client_credentials") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let (Some(id), Some(secret)) = (request.client_id, request.client_secret) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    };
    match service.client_token(&id, &secret).await {
        Ok(token) => Json(json!({
            "access_token": token.access_token,
            "token_type": "Bearer",
            "expires_in": token.expires_in,
            "scope": token.scopes.join(" "),
        }))
        .into_response(),
        Err(AccountError::InvalidClient) => oauth_error(StatusCode::UNAUTHORIZED, "invalid_client"),
        Err(error) => {
            tracing::error!(%error, "issuing a client token failed");
            oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error")
        }
    }
}
