//! Reference data: categories, brands, product types and locations. The four share one
//! shape (list, create, get, replace, delete), so one macro writes their handlers.

use comptoir_kernel::AppState;
use utoipa_axum::router::OpenApiRouter;

macro_rules! crud {
    ($module:ident, $what:literal, $list:tt, $item:tt, $id:tt, $input:tt, $view:tt,
     $list_fn:ident, $get_fn:ident, $create_fn:ident, $update_fn:ident, $delete_fn:ident) => {
        mod $module {
            use axum::Json;
            use axum::extract::State;
            use axum::http::StatusCode;
            use comptoir_kernel::auth::Caller;
            use comptoir_kernel::error::ErrorBody;
            use comptoir_kernel::http::{ApiJson, ApiPath};
            use comptoir_kernel::{AppResult, AppState};
            use utoipa_axum::router::OpenApiRouter;
            use utoipa_axum::routes;

            use crate::model::*;
            use crate::service;
            use crate::views::*;

            pub fn router() -> OpenApiRouter<AppState> {
                OpenApiRouter::new()
                    .routes(routes!(list, create))
                    .routes(routes!(get, update, delete))
            }

            #[doc = concat!("Every ", $what, " of the organization.")]
            #[utoipa::path(get, path = $list, tag = "catalog", security(("bearer" = []), ("api_key" = [])),
                responses((status = 200, body = Vec<$view>), (status = 401, body = ErrorBody)))]
            async fn list(State(state): State<AppState>, caller: Caller) -> AppResult<Json<Vec<$view>>> {
                Ok(Json(service::$list_fn(&state.db, caller.org_id).await?))
            }

            #[doc = concat!("Create a ", $what, ".")]
            #[utoipa::path(post, path = $list, tag = "catalog", request_body = $input, security(("bearer" = []), ("api_key" = [])),
                responses((status = 201, body = $view), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
            async fn create(
                State(state): State<AppState>,
                caller: Caller,
                ApiJson(input): ApiJson<$input>,
            ) -> AppResult<(StatusCode, Json<$view>)> {
                Ok((StatusCode::CREATED, Json(service::$create_fn(&state.db, &caller, input).await?)))
            }

            #[doc = concat!("One ", $what, ".")]
            #[utoipa::path(get, path = $item, tag = "catalog", params(("id" = Uuid, Path)), security(("bearer" = []), ("api_key" = [])),
                responses((status = 200, body = $view), (status = 404, body = ErrorBody)))]
            async fn get(State(state): State<AppState>, caller: Caller, ApiPath(id): ApiPath<$id>) -> AppResult<Json<$view>> {
                Ok(Json(service::$get_fn(&state.db, caller.org_id, id).await?))
            }

            #[doc = concat!("Replace a ", $what, ".")]
            #[utoipa::path(put, path = $item, tag = "catalog", params(("id" = Uuid, Path)), request_body = $input, security(("bearer" = []), ("api_key" = [])),
                responses((status = 200, body = $view), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
            async fn update(
                State(state): State<AppState>,
                caller: Caller,
                ApiPath(id): ApiPath<$id>,
                ApiJson(input): ApiJson<$input>,
            ) -> AppResult<Json<$view>> {
                Ok(Json(service::$update_fn(&state.db, &caller, id, input).await?))
            }

            #[doc = concat!("Delete a ", $what, " nothing refers to (409 otherwise).")]
            #[utoipa::path(delete, path = $item, tag = "catalog", params(("id" = Uuid, Path)), security(("bearer" = []), ("api_key" = [])),
                responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
            async fn delete(State(state): State<AppState>, caller: Caller, ApiPath(id): ApiPath<$id>) -> AppResult<StatusCode> {
                service::$delete_fn(&state.db, &caller, id).await?;
                Ok(StatusCode::NO_CONTENT)
            }
        }
    };
}

crud!(
    categories,
    "category",
    "/api/v1/catalog/categories",
    "/api/v1/catalog/categories/{id}",
    CategoryId,
    CategoryInput,
    Category,
    list_categories,
    get_category,
    create_category,
    update_category,
    delete_category
);
crud!(
    brands,
    "brand",
    "/api/v1/catalog/brands",
    "/api/v1/catalog/brands/{id}",
    BrandId,
    BrandInput,
    Brand,
    list_brands,
    get_brand,
    create_brand,
    update_brand,
    delete_brand
);
crud!(
    product_types,
    "product type",
    "/api/v1/catalog/product-types",
    "/api/v1/catalog/product-types/{id}",
    ProductTypeId,
    ProductTypeInput,
    ProductType,
    list_product_types,
    get_product_type,
    create_product_type,
    update_product_type,
    delete_product_type
);
crud!(
    locations,
    "location",
    "/api/v1/catalog/locations",
    "/api/v1/catalog/locations/{id}",
    LocationId,
    LocationInput,
    Location,
    list_locations,
    get_location,
    create_location,
    update_location,
    delete_location
);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(categories::router())
        .merge(brands::router())
        .merge(product_types::router())
        .merge(locations::router())
}
