//! Answers for requests no route takes: JSON under `/api`, an HTML page elsewhere.

use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use comptoir_kernel::{AppError, ErrorCode};

use crate::ui::UiError;

pub async fn not_found(uri: Uri) -> Response {
    let err = AppError::new(
        ErrorCode::RouteNotFound,
        format!("no route for {}", uri.path()),
    );
    if uri.path().starts_with("/api/") {
        err.into_response()
    } else {
        UiError(err).into_response()
    }
}

pub async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    AppError::new(
        ErrorCode::MethodNotAllowed,
        format!("{method} is not allowed on {}", uri.path()),
    )
    .into_response()
}
