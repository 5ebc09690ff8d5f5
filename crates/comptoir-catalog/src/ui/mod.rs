//! Web pages: the product list with filters and search, a product's page (details, stock
//! by location, movements, a stock form), the edit form with validation messages, and the
//! CSV import page with its report. Everything goes through the same services as the API.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use comptoir_kernel::auth::Permission;
use comptoir_kernel::http::ApiPath;
use comptoir_kernel::{AppError, AppState, ErrorCode};
use comptoir_web::ui::{LAYOUT_TEMPLATES, UiError, UiSession, render_with, ser};
use minijinja::{Environment, context};
use serde_json::Value;
use uuid::Uuid;

mod form;

use form::{adjust, create, edit_form, new_form, update};

use crate::model::*;
use crate::service;
use crate::views::*;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/catalog", get(list))
        .route("/catalog/products/new", get(new_form))
        .route("/catalog/products", post(create))
        .route("/catalog/products/{id}", get(show).post(update))
        .route("/catalog/products/{id}/edit", get(edit_form))
        .route("/catalog/products/{id}/adjust", post(adjust))
        .route(
            "/catalog/imports",
            get(imports)
                .post(upload)
                .layer(DefaultBodyLimit::max(crate::IMPORT_BODY_LIMIT)),
        )
        .route("/catalog/imports/{id}", get(import_page))
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        let own: &[(&'static str, &'static str)] = &[
            (
                "catalog_list.html",
                include_str!("../../templates/catalog_list.html"),
            ),
            (
                "catalog_product.html",
                include_str!("../../templates/catalog_product.html"),
            ),
            (
                "catalog_form.html",
                include_str!("../../templates/catalog_form.html"),
            ),
            (
                "catalog_imports.html",
                include_str!("../../templates/catalog_imports.html"),
            ),
            (
                "catalog_import.html",
                include_str!("../../templates/catalog_import.html"),
            ),
        ];
        for (name, source) in LAYOUT_TEMPLATES.iter().chain(own) {
            env.add_template(name, source)
                .expect("embedded templates are valid");
        }
        env
    })
}

fn page(name: &str, status: StatusCode, ctx: minijinja::Value) -> Result<Response, UiError> {
    Ok((status, render_with(env(), name, ctx)?).into_response())
}

fn bad_form(e: FormRejection) -> UiError {
    UiError(AppError::new(ErrorCode::BadRequest, e.body_text()))
}

fn can_write(s: &UiSession) -> bool {
    s.caller.role.can(Permission::Write)
}

/// The list filter from an HTML form, where empty fields mean "any".
fn filter_from(raw: &HashMap<String, String>) -> Result<ProductFilter, AppError> {
    let get = |k: &str| raw.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let id = |k: &str| -> Result<Option<Uuid>, AppError> {
        get(k)
            .map(|v| Uuid::parse_str(v).map_err(|_| AppError::invalid_parameter(k, "not an id")))
            .transpose()
    };
    Ok(ProductFilter {
        q: get("q").map(str::to_owned),
        category_id: id("category_id")?.map(CategoryId),
        brand_id: id("brand_id")?.map(BrandId),
        product_type_id: id("product_type_id")?.map(ProductTypeId),
        status: get("status").and_then(ProductStatus::parse),
        min_price: get("min_price").map(str::to_owned),
        max_price: get("max_price").map(str::to_owned),
        in_stock: get("in_stock").map(|v| v == "true"),
        cursor: get("cursor").map(str::to_owned),
        limit: None,
    })
}

fn query_string(f: &ProductFilter) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    let mut add = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            s.append_pair(k, &v);
        }
    };
    add("q", f.q.clone());
    add("category_id", f.category_id.map(|v| v.to_string()));
    add("brand_id", f.brand_id.map(|v| v.to_string()));
    add("product_type_id", f.product_type_id.map(|v| v.to_string()));
    add("status", f.status.map(|v| v.to_string()));
    add("min_price", f.min_price.clone());
    add("max_price", f.max_price.clone());
    add("in_stock", f.in_stock.map(|v| v.to_string()));
    s.finish()
}

async fn list(
    State(state): State<AppState>,
    session: UiSession,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Response, UiError> {
    let org = session.caller.org_id;
    let (filter, page_result) = match filter_from(&raw) {
        Ok(f) => {
            let r = service::list_products(&state.db, org, &f).await;
            (f, r)
        }
        Err(e) => (ProductFilter::default(), Err(e)),
    };
    let (result, error) = match page_result {
        Ok(p) => (p, None),
        Err(e) if e.code.status().is_client_error() => (
            ProductPage {
                items: vec![],
                next_cursor: None,
            },
            Some(e.message),
        ),
        Err(e) => return Err(e.into()),
    };
    let ctx = context! {
        page => ser(&result), error, query => query_string(&filter),
        f => ser(&serde_json::json!({
            "q": filter.q, "category_id": filter.category_id, "brand_id": filter.brand_id,
            "product_type_id": filter.product_type_id, "status": filter.status,
            "min_price": filter.min_price, "max_price": filter.max_price, "in_stock": filter.in_stock,
        })),
        categories => ser(&service::list_categories(&state.db, org).await?),
        brands => ser(&service::list_brands(&state.db, org).await?),
        types => ser(&service::list_product_types(&state.db, org).await?),
        statuses => ser(&ProductStatus::ALL),
        can_write => can_write(&session),
        ..session.context("catalog")
    };
    page("catalog_list.html", StatusCode::OK, ctx)
}

async fn show(
    State(state): State<AppState>,
    session: UiSession,
    ApiPath(id): ApiPath<ProductId>,
) -> Result<Response, UiError> {
    let org = session.caller.org_id;
    let p = service::get_product(&state.db, org, id).await?;
    let locations = service::list_locations(&state.db, org).await?;
    let loc_name = |l: LocationId| {
        locations
            .iter()
            .find(|x| x.id == l)
            .map(|x| x.name.clone())
            .unwrap_or_default()
    };
    let stock: Vec<Value> = service::list_stock(
        &state.db,
        org,
        &StockFilter {
            product_id: Some(id),
            limit: Some(1000),
            ..Default::default()
        },
    )
    .await?
    .into_iter()
    .map(|s| {
        let mut v = serde_json::to_value(&s).unwrap_or_default();
        v["location"] = Value::String(loc_name(s.location_id));
        v
    })
    .collect();
    let movements: Vec<Value> = service::list_movements(
        &state.db,
        org,
        &MovementFilter {
            product_id: Some(id),
            limit: Some(100),
            ..Default::default()
        },
    )
    .await?
    .into_iter()
    .map(|m| {
        let mut v = serde_json::to_value(&m).unwrap_or_default();
        v["location"] = Value::String(loc_name(m.location_id));
        v
    })
    .collect();
    let brand = match p.brand_id {
        Some(b) => Some(service::get_brand(&state.db, org, b).await?.name),
        None => None,
    };
    let category = match p.category_id {
        Some(c) => Some(service::get_category(&state.db, org, c).await?.name),
        None => None,
    };
    let ptype = match p.product_type_id {
        Some(t) => Some(service::get_product_type(&state.db, org, t).await?.name),
        None => None,
    };
    let ctx = context! {
        p => ser(&p), stock => ser(&stock), movements => ser(&movements), locations => ser(&locations),
        brand, category, ptype, can_write => can_write(&session), ..session.context("catalog")
    };
    page("catalog_product.html", StatusCode::OK, ctx)
}

async fn imports(State(state): State<AppState>, session: UiSession) -> Result<Response, UiError> {
    let list = crate::import::list_imports(&state.db, session.caller.org_id).await?;
    let ctx = context! { imports => ser(&list), can_write => can_write(&session), ..session.context("catalog") };
    page("catalog_imports.html", StatusCode::OK, ctx)
}

async fn upload(
    State(state): State<AppState>,
    session: UiSession,
    mut multipart: Multipart,
) -> Result<Response, UiError> {
    let bad = |m: String| UiError(AppError::new(ErrorCode::BadRequest, m));
    let mut fields: HashMap<String, String> = HashMap::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| bad(e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(|e| bad(e.body_text()))?;
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| UiError(AppError::field(&name, "the file is not UTF-8 text")))?;
        fields.insert(name, text);
    }
    session.check_csrf(fields.get("csrf_token").map(String::as_str).unwrap_or(""))?;
    let options = ImportOptions {
        kind: fields.get("kind").and_then(|k| ImportKind::parse(k)),
        upsert: Some(fields.get("upsert").is_some_and(|v| v == "true")),
        create_categories: Some(fields.get("create_categories").is_some_and(|v| v == "true")),
        map: fields.get("map").filter(|m| !m.trim().is_empty()).cloned(),
    };
    let content = fields.remove("file").unwrap_or_default();
    let (id, _task) =
        crate::jobs::queue_import(&state.db, &session.caller, options, content).await?;
    Ok(Redirect::to(&format!("/catalog/imports/{id}")).into_response())
}

async fn import_page(
    State(state): State<AppState>,
    session: UiSession,
    ApiPath(id): ApiPath<ImportId>,
) -> Result<Response, UiError> {
    let import = crate::import::get_import(&state.db, session.caller.org_id, id).await?;
    page(
        "catalog_import.html",
        StatusCode::OK,
        context! { i => ser(&import), ..session.context("catalog") },
    )
}
