//! One error type for every handler: a stable machine `code`, a human `message`, optional
//! `details` (field errors), and the request's correlation id. Internal causes are logged,
//! never sent to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::http::request_id::current_correlation_id;

/// Stable error codes clients can switch on. Adding a variant is fine; renaming one breaks
/// clients, so don't.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body or a parameter parsed but a field is invalid (422).
    ValidationFailed,
    /// Pairwise comparisons (AHP) too inconsistent to derive weights from; `details` carries
    /// the consistency ratio `CR` and its `threshold` (422).
    InconsistentWeights,
    /// The body is not well-formed JSON (400).
    MalformedJson,
    /// A path or query parameter could not be parsed (400).
    InvalidParameter,
    /// The request is syntactically wrong in another way (400).
    BadRequest,
    /// The content type is not the one the endpoint accepts (415).
    UnsupportedMediaType,
    /// The body is larger than the configured limit (413).
    PayloadTooLarge,
    /// No credentials were given (401).
    Unauthenticated,
    /// E-mail or password is wrong (401).
    InvalidCredentials,
    /// A token or API key is malformed, unknown or revoked (401).
    InvalidToken,
    /// A token was valid once but has expired (401).
    TokenExpired,
    /// The caller's role does not allow this (403).
    Forbidden,
    /// The API key's scopes do not allow this (403).
    InsufficientScope,
    /// A form or cookie-authenticated request lacks a valid CSRF token (403).
    CsrfFailed,
    /// The resource does not exist or belongs to another organization (404).
    NotFound,
    /// No route matches the path (404).
    RouteNotFound,
    /// The route exists but not with this method (405).
    MethodNotAllowed,
    /// The request took longer than the server allows (408).
    Timeout,
    /// The resource already exists (409).
    AlreadyExists,
    /// The request conflicts with the resource's current state (409).
    Conflict,
    /// Too many requests (429).
    RateLimited,
    /// The resource is not in a state from which this change is allowed (an order state
    /// machine, 409); `details` carries `from` and `to`.
    InvalidTransition,
    /// The `Idempotency-Key` was already used with a different request (409).
    IdempotencyKeyReused,
    /// A dependency (database, model) is not available (503).
    Unavailable,
    /// Something failed on our side; the details are in the server log (500).
    InternalError,
}

impl ErrorCode {
    /// The HTTP status this code is always answered with.
    pub fn status(self) -> StatusCode {
        use ErrorCode::*;
        match self {
            ValidationFailed | InconsistentWeights => StatusCode::UNPROCESSABLE_ENTITY,
            MalformedJson | InvalidParameter | BadRequest => StatusCode::BAD_REQUEST,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Unauthenticated | InvalidCredentials | InvalidToken | TokenExpired => {
                StatusCode::UNAUTHORIZED
            }
            Forbidden | InsufficientScope | CsrfFailed => StatusCode::FORBIDDEN,
            NotFound | RouteNotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Timeout => StatusCode::REQUEST_TIMEOUT,
            AlreadyExists | Conflict | InvalidTransition | IdempotencyKeyReused => {
                StatusCode::CONFLICT
            }
            RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            ValidationFailed => "validation_failed",
            InconsistentWeights => "inconsistent_weights",
            MalformedJson => "malformed_json",
            InvalidParameter => "invalid_parameter",
            BadRequest => "bad_request",
            UnsupportedMediaType => "unsupported_media_type",
            PayloadTooLarge => "payload_too_large",
            Unauthenticated => "unauthenticated",
            InvalidCredentials => "invalid_credentials",
            InvalidToken => "invalid_token",
            TokenExpired => "token_expired",
            Forbidden => "forbidden",
            InsufficientScope => "insufficient_scope",
            CsrfFailed => "csrf_failed",
            NotFound => "not_found",
            RouteNotFound => "route_not_found",
            MethodNotAllowed => "method_not_allowed",
            Timeout => "timeout",
            AlreadyExists => "already_exists",
            Conflict => "conflict",
            RateLimited => "rate_limited",
            InvalidTransition => "invalid_transition",
            IdempotencyKeyReused => "idempotency_key_reused",
            Unavailable => "unavailable",
            InternalError => "internal_error",
        }
    }
}

/// One invalid field: where (a dotted path such as `lines[2].quantity`) and why.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: Value,
    pub correlation_id: Option<String>,
}

/// The error every handler, extractor and service returns.
#[derive(Debug)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Value,
    /// Seconds to put in `Retry-After` (429, 503).
    pub retry_after: Option<u64>,
    source: Option<anyhow::Error>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Value::Null,
            retry_after: None,
            source: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// 422 for one field.
    pub fn field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::fields(vec![FieldError {
            field: field.into(),
            reason: reason.into(),
        }])
    }

    /// 422 listing every invalid field.
    pub fn fields(errors: Vec<FieldError>) -> Self {
        let message = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.reason),
            many => format!("{} fields are invalid", many.len()),
        };
        Self::new(ErrorCode::ValidationFailed, message).with_details(json!({ "fields": errors }))
    }

    /// 400 for a path or query parameter.
    pub fn invalid_parameter(name: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self::new(
            ErrorCode::InvalidParameter,
            format!("parameter {name}: {reason}"),
        )
        .with_details(json!({ "fields": [FieldError { field: name.into(), reason }] }))
    }

    /// 404: the same answer whether the resource never existed or belongs to another org.
    pub fn not_found(resource: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{resource} not found"))
            .with_details(json!({ "resource": resource }))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn unauthenticated() -> Self {
        Self::new(ErrorCode::Unauthenticated, "authentication required")
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, message)
    }

    /// 500; the cause is logged with the correlation id and not shown to the client.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(ErrorCode::InternalError, "internal error");
        e.source = Some(source.into());
        e
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code,
            message: self.message.clone(),
            details: self.details.clone(),
            correlation_id: current_correlation_id(),
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)?;
        if let Some(source) = &self.source {
            write!(f, " ({source:#})")?;
        }
        Ok(())
    }
}

impl std::error::Error for AppError {}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Self::new(
                ErrorCode::AlreadyExists,
                "a resource with the same key already exists",
            ),
            _ => Self::internal(err),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
        match err.downcast::<AppError>() {
            Ok(app) => app,
            Err(err) => Self::internal(err),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        if let Some(source) = &self.source {
            tracing::error!(
                code = self.code.as_str(),
                error = format!("{source:#}"),
                "request failed"
            );
        } else if status.is_server_error() {
            tracing::warn!(code = self.code.as_str(), message = %self.message, "request failed");
        }
        let mut response = (status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_serializes_to_its_wire_name() {
        use ErrorCode::*;
        for code in [
            ValidationFailed,
            InconsistentWeights,
            MalformedJson,
            InvalidParameter,
            BadRequest,
            UnsupportedMediaType,
            PayloadTooLarge,
            Unauthenticated,
            InvalidCredentials,
            InvalidToken,
            TokenExpired,
            Forbidden,
            InsufficientScope,
            CsrfFailed,
            NotFound,
            RouteNotFound,
            MethodNotAllowed,
            Timeout,
            AlreadyExists,
            Conflict,
            RateLimited,
            InvalidTransition,
            IdempotencyKeyReused,
            Unavailable,
            InternalError,
        ] {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                Value::String(code.as_str().into())
            );
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = AppError::internal(anyhow::anyhow!("password=hunter2 leaked"));
        let body = serde_json::to_string(&err.body()).unwrap();
        assert!(!body.contains("hunter2"), "{body}");
        assert!(body.contains("internal_error"));
    }
}
