//! `/api/v1/retail/forecast...`: the forecast baseline and its backtest.

use axum::Json;
use axum::extract::State;
use comptoir_kernel::auth::Caller;
use comptoir_kernel::error::ErrorBody;
use comptoir_kernel::http::ApiQuery;
use comptoir_kernel::{AppResult, AppState};

use super::service::{self, BacktestView, ForecastQuery, ForecastView};

/// Monthly revenue forecast of a scope (the caller's stores, or one; all categories, or
/// one) after its last complete month: mean and prediction interval (80 % unless `level`).
#[utoipa::path(get, path = "/api/v1/retail/forecast", tag = "retail", params(ForecastQuery),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = ForecastView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_forecast(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ForecastQuery>,
) -> AppResult<Json<ForecastView>> {
    Ok(Json(service::forecast(&s.db, &caller, &q).await?))
}

/// Backtest of the forecast on a scope: the last `holdout` complete months forecast from
/// the months before; MAPE, seasonal-naive MAPE and interval coverage.
#[utoipa::path(get, path = "/api/v1/retail/forecast/backtest", tag = "retail", params(ForecastQuery),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = BacktestView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn get_backtest(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ForecastQuery>,
) -> AppResult<Json<BacktestView>> {
    Ok(Json(service::backtest(&s.db, &caller, &q).await?))
}
