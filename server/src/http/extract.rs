//! One way in for SEP parameters: a query string or a body decoded into its wire type
//! (`mooring_wire`), every text checked for control characters first, and every failure
//! a SEP 400 `{"error": "…"}` naming the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::text::{check_json, form_params};
use crate::error::ApiError;

fn decode<T: DeserializeOwned>(object: Map<String, Value>) -> Result<T, ApiError> {
    mooring_wire::decode(object).map_err(|e| ApiError::bad_request(e.0))
}

/// `a=1&b=2` as a JSON object of strings (a repeated name keeps its last value).
fn form_object(raw: &[u8]) -> Result<Map<String, Value>, ApiError> {
    Ok(form_params(raw)?.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}

/// A JSON body that must be an object, with every key and string checked.
pub fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| ApiError::bad_request("body is not valid JSON"))?;
    check_json(&value)?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::bad_request("body must be a JSON object")),
    }
}

async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge("request body is too large".into())
        } else {
            ApiError::bad_request("unreadable body")
        }
    })
}

/// The query string as `T`.
pub struct SepQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for SepQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw = parts.uri.query().unwrap_or_default();
        Ok(Self(decode(form_object(raw.as_bytes())?)?))
    }
}

/// A JSON body as `T` (SEP-31, SEP-38 `POST /quote`: JSON whatever the content type
/// says), with the object as sent, for what must see the request itself (the
/// idempotency fingerprint).
pub struct SepJson<T> {
    pub body: T,
    pub object: Map<String, Value>,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for SepJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let object = json_object(&body_bytes(req, state).await?)?;
        Ok(Self { body: decode(object.clone())?, object })
    }
}

/// A body as `T`, JSON or URL-encoded form by its content type (SEP-10 `POST /auth`).
pub struct SepForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for SepForm<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/json"));
        let bytes = body_bytes(req, state).await?;
        let object = if json { json_object(&bytes)? } else { form_object(&bytes)? };
        Ok(Self(decode(object)?))
    }
}

/// `T` from parameters already gathered (a SEP-12 body's identity part).
pub fn from_params<T: DeserializeOwned>(
    params: impl IntoIterator<Item = (String, String)>,
) -> Result<T, ApiError> {
    decode(params.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}
