//! `/api/v1/orders...`: handlers with their OpenAPI description. Reads go through the
//! orders cache (brief TTL, dropped on every change made by this process).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use comptoir_kernel::auth::Caller;
use comptoir_kernel::error::ErrorBody;
use comptoir_kernel::http::extract::parse_json;
use comptoir_kernel::http::{ApiJson, ApiPath, ApiQuery};
use comptoir_kernel::{AppError, AppResult, AppState, ErrorCode};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::intake;
use crate::jobs::Pipeline;
use crate::model::*;
use crate::queries::{self, OrderFilter};
use crate::scope::OrderScope;
use crate::state::Status;
use crate::transitions;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_order, list_orders))
        .routes(routes!(order_counts))
        .routes(routes!(get_order))
        .routes(routes!(cancel_order))
        .routes(routes!(invoice_order))
        .routes(routes!(ship_order))
        .routes(routes!(deliver_order))
        .merge(crate::connectors::api::router())
}

/// Take an order: stored and queued at once (202); validation, stock reservation and
/// confirmation follow in a worker. `Idempotency-Key`: the same key and body answer with
/// the same order (header `Idempotent-Replayed: true`); another body → 409
/// `idempotency_key_reused`.
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = OrderInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "1-255 visible ASCII characters")),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 202, body = Accepted), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_order(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(input): ApiJson<OrderInput>,
) -> AppResult<Response> {
    let key = headers
        .get("idempotency-key")
        .map(|v| intake::parse_key(v.as_bytes()))
        .transpose()?;
    let (accepted, replayed) = intake::create_order(&state.db, &caller, key, input).await?;
    if !replayed
        && let Some(p) = state.ext::<Pipeline>()
        && let Some(cache) = p.cache(&state)
    {
        cache
            .invalidate_tag(&format!("orders-list:{}", caller.org_id.0))
            .await;
    }
    let mut response = (StatusCode::ACCEPTED, Json(accepted)).into_response();
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// Orders, newest first, filtered by status, dates, customer or text; pass `next_cursor`
/// back as `cursor` for the next page.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(OrderFilter),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = OrderPage), (status = 400, body = ErrorBody)))]
async fn list_orders(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<OrderFilter>,
) -> AppResult<Json<OrderPage>> {
    let org = caller.org_id;
    let scope = OrderScope::of(&state.db, &caller).await?;
    let compute = || queries::list_orders(&state.db, org, &scope, &filter);
    let page = match state
        .ext::<Pipeline>()
        .and_then(|p| p.cache(&state).cloned())
    {
        Some(cache) => {
            let key = format!("{}:list:{}:{}", org.0, scope.key(), filter.key());
            let tag = format!("orders-list:{}", org.0);
            cache.get_or_compute(&key, &[&tag], compute).await?
        }
        None => compute().await?,
    };
    Ok(Json(page))
}

/// How many orders are in each status (every status listed), for live counters.
#[utoipa::path(get, path = "/api/v1/orders/counts", tag = "orders",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = BTreeMap<String, i64>)))]
async fn order_counts(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<BTreeMap<String, i64>>> {
    let scope = OrderScope::of(&state.db, &caller).await?;
    Ok(Json(
        queries::counts(&state.db, caller.org_id, &scope).await?,
    ))
}

/// One order with its lines, reservation, state history and events.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody)))]
async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<OrderId>,
) -> AppResult<Json<OrderView>> {
    Ok(Json(read_order(&state, &caller, id).await?))
}

async fn read_order(state: &AppState, caller: &Caller, id: OrderId) -> AppResult<OrderView> {
    let org = caller.org_id;
    let scope = OrderScope::of(&state.db, caller).await?;
    let compute = || queries::get_order(&state.db, org, id);
    // The cache holds the whole order; the scope is checked on every read.
    let view = match state
        .ext::<Pipeline>()
        .and_then(|p| p.cache(state).cloned())
    {
        Some(cache) => {
            let key = format!("{}:order:{}", org.0, id.0);
            cache.get_or_compute(&key, &[], compute).await?
        }
        None => compute().await?,
    };
    queries::within(view, &scope)
}

/// The optional `{reason}` body of a transition (an empty body is fine).
fn reason(body: Result<Bytes, BytesRejection>) -> AppResult<Option<String>> {
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::new(ErrorCode::PayloadTooLarge, "the request body is too large")
        } else {
            AppError::new(
                ErrorCode::BadRequest,
                format!("could not read the body: {r}"),
            )
        }
    })?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    Ok(parse_json::<TransitionInput>(&body)?.reason)
}

async fn move_order(
    state: &AppState,
    caller: &Caller,
    id: OrderId,
    to: Status,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<Json<OrderView>> {
    let reason = reason(body)?;
    let result = transitions::change(&state.db, caller, id, to, reason).await;
    if let Some(p) = state.ext::<Pipeline>() {
        p.invalidate(state, caller.org_id, id).await;
    }
    result?;
    Ok(Json(
        queries::get_order(&state.db, caller.org_id, id).await?,
    ))
}

/// Cancel: from received, validated, stock_reserved, confirmed, invoiced or failed; the
/// reservation is released. Otherwise 409 `invalid_transition`.
#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", tag = "orders", params(("id" = Uuid, Path)),
    request_body(content = TransitionInput, description = "optional; an empty body is fine"),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = OrderView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn cancel_order(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<OrderId>,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<Json<OrderView>> {
    move_order(&state, &caller, id, Status::Cancelled, body).await
}

/// Mark invoiced: from confirmed (the billing slice will call this).
#[utoipa::path(post, path = "/api/v1/orders/{id}/invoice", tag = "orders", params(("id" = Uuid, Path)),
    request_body(content = TransitionInput, description = "optional; an empty body is fine"),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = OrderView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn invoice_order(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<OrderId>,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<Json<OrderView>> {
    move_order(&state, &caller, id, Status::Invoiced, body).await
}

/// Ship: from confirmed or invoiced; the reservation is committed (stock leaves on hand).
#[utoipa::path(post, path = "/api/v1/orders/{id}/ship", tag = "orders", params(("id" = Uuid, Path)),
    request_body(content = TransitionInput, description = "optional; an empty body is fine"),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = OrderView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn ship_order(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<OrderId>,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<Json<OrderView>> {
    move_order(&state, &caller, id, Status::Shipped, body).await
}

/// Deliver: from shipped.
#[utoipa::path(post, path = "/api/v1/orders/{id}/deliver", tag = "orders", params(("id" = Uuid, Path)),
    request_body(content = TransitionInput, description = "optional; an empty body is fine"),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = OrderView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn deliver_order(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<OrderId>,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<Json<OrderView>> {
    move_order(&state, &caller, id, Status::Delivered, body).await
}
