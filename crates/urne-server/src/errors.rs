//! Every error the service sends is JSON `{"code", "message", "field"?}` (spec/13 §13.3),
//! including axum's own extractor rejections, unknown routes and wrong methods.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use urne_board::{Code, Rejection};
use urne_store::StoreError;

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

/// A JSON error response with `status` and the error `code` of spec/13.
pub(crate) fn error(
    status: StatusCode,
    code: &str,
    message: &str,
    field: Option<&str>,
) -> Response {
    let body = serde_json::to_vec(&ErrorBody {
        code,
        message,
        field,
    })
    .unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// An error the client should retry after `seconds` (429, 503, 408 and truncated bodies).
pub(crate) fn retry_later(
    status: StatusCode,
    code: &str,
    message: &str,
    seconds: &'static str,
) -> Response {
    let mut response = error(status, code, message, None);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static(seconds));
    response
}

/// The HTTP status of each rejection code (spec/13 §13.3): the board's rejections
/// carry none of their own.
pub(crate) fn rejection_status(code: Code) -> StatusCode {
    match code {
        Code::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Code::BadSignature | Code::NotAuthorized => StatusCode::FORBIDDEN,
        Code::UnknownContext => StatusCode::NOT_FOUND,
        Code::ContextExists | Code::WrongPhase | Code::Duplicate | Code::AlreadyUsed => {
            StatusCode::CONFLICT
        }
        Code::Storage | Code::Unavailable | Code::MaybeStored => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// The board's rejection of a record. Only `unavailable` (stopping, or at its
/// acceptance bound) stored nothing and may be sent again unchanged: it says when.
/// `storage` (a fail-stop board) and `maybe-stored` carry no Retry-After: retrying
/// does not help the one, and could double the other.
pub(crate) fn rejection(r: &Rejection) -> Response {
    if r.code == Code::Unavailable {
        return retry_later(rejection_status(r.code), r.code.as_str(), &r.message, "1");
    }
    error(
        rejection_status(r.code),
        r.code.as_str(),
        &r.message,
        r.field.as_deref(),
    )
}

pub(crate) fn store_error(e: &StoreError) -> Response {
    match e {
        StoreError::OutOfRange { detail } => {
            error(StatusCode::NOT_FOUND, "not-found", detail, None)
        }
        other => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage",
            &other.to_string(),
            None,
        ),
    }
}

pub(crate) fn internal(message: &str) -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, "internal", message, None)
}

/// `value` as a JSON response.
pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => internal(&e.to_string()),
    }
}

/// `Query<T>` whose rejection is our JSON `malformed` error naming the query.
pub(crate) struct JsonQuery<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for JsonQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Self(value)),
            Err(e) => Err(query_rejection(&e)),
        }
    }
}

fn query_rejection(e: &QueryRejection) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "malformed",
        &format!("bad query string: {}", e.body_text()),
        Some("query"),
    )
}

/// `Path<T>` whose rejection is our JSON `malformed` error naming the path.
pub(crate) struct JsonPath<T>(pub(crate) T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for JsonPath<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(e) => Err(path_rejection(&e)),
        }
    }
}

fn path_rejection(e: &PathRejection) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "malformed",
        &format!("bad path: {}", e.body_text()),
        Some("path"),
    )
}

/// Unknown routes.
pub(crate) async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not-found",
        "no such route (see /openapi.json)",
        Some("path"),
    )
}

/// A known route asked with a method it does not answer.
pub(crate) async fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this route does not answer this method (see /openapi.json)",
        Some("method"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry_after(code: Code) -> (StatusCode, Option<HeaderValue>) {
        let response = rejection(&Rejection::new(code, None, "why"));
        (
            response.status(),
            response.headers().get(header::RETRY_AFTER).cloned(),
        )
    }

    #[test]
    fn only_unavailable_tells_the_client_to_send_the_same_record_again() {
        assert_eq!(
            retry_after(Code::Unavailable),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Some(HeaderValue::from_static("1"))
            )
        );
        // A fail-stop board (storage) will not recover by itself; a record whose answer
        // was lost (maybe-stored) must be looked up before it is sent again.
        for code in [Code::Storage, Code::MaybeStored] {
            assert_eq!(
                retry_after(code),
                (StatusCode::SERVICE_UNAVAILABLE, None),
                "{code}"
            );
        }
    }
}
