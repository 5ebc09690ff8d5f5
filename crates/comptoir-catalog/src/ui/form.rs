//! The product form (create and edit, with validation messages) and the stock form of a
//! product's page.

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use comptoir_kernel::auth::Permission;
use comptoir_kernel::http::ApiPath;
use comptoir_kernel::{AppError, AppState, ErrorCode};
use comptoir_web::ui::{UiError, UiSession, ser};
use minijinja::context;
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{bad_form, page};
use crate::model::*;
use crate::service;
use crate::views::*;

/// The product form as typed (strings), so it can be shown again with its errors.
#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub(super) struct ProductForm {
    #[serde(skip_serializing)]
    csrf_token: String,
    sku: String,
    name: String,
    description: String,
    brand_id: String,
    category_id: String,
    product_type_id: String,
    attributes: String,
    purchase_price: String,
    sale_price: String,
    currency: String,
    vat_rate: String,
    availability: String,
    images: String,
    status: String,
}

impl ProductForm {
    fn from_product(p: &Product) -> Self {
        let attributes = p
            .attributes
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| match v {
                        Value::String(s) => format!("{k}={s}"),
                        other => format!("{k}={other}"),
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        ProductForm {
            csrf_token: String::new(),
            sku: p.sku.clone(),
            name: p.name.clone(),
            description: p.description.clone().unwrap_or_default(),
            brand_id: p.brand_id.map(|v| v.to_string()).unwrap_or_default(),
            category_id: p.category_id.map(|v| v.to_string()).unwrap_or_default(),
            product_type_id: p.product_type_id.map(|v| v.to_string()).unwrap_or_default(),
            attributes,
            purchase_price: p.purchase_price.map(|v| v.to_string()).unwrap_or_default(),
            sale_price: p.sale_price.to_string(),
            currency: p.currency.clone(),
            vat_rate: p.vat_rate.to_string(),
            availability: p.availability.to_string(),
            images: p.images.join("\n"),
            status: p.status.to_string(),
        }
    }

    fn to_input(&self) -> Result<ProductInput, AppError> {
        let opt = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
        let decimal = |field: &str, s: &str| -> Result<Option<Amount>, AppError> {
            opt(s)
                .map(|v| {
                    parse_decimal(&v)
                        .map(Amount)
                        .ok_or_else(|| AppError::field(field, "not a decimal number"))
                })
                .transpose()
        };
        let id = |field: &str, s: &str| -> Result<Option<Uuid>, AppError> {
            opt(s)
                .map(|v| Uuid::parse_str(&v).map_err(|_| AppError::field(field, "not an id")))
                .transpose()
        };
        let mut attributes = Map::new();
        for line in self
            .attributes
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let (k, v) = line.split_once('=').ok_or_else(|| {
                AppError::field("attributes", format!("{line:?} is not name=value"))
            })?;
            attributes.insert(k.trim().to_owned(), Value::String(v.trim().to_owned()));
        }
        Ok(ProductInput {
            sku: self.sku.clone(),
            name: self.name.clone(),
            description: opt(&self.description),
            brand_id: id("brand_id", &self.brand_id)?.map(BrandId),
            category_id: id("category_id", &self.category_id)?.map(CategoryId),
            product_type_id: id("product_type_id", &self.product_type_id)?.map(ProductTypeId),
            attributes,
            purchase_price: decimal("purchase_price", &self.purchase_price)?,
            sale_price: decimal("sale_price", &self.sale_price)?
                .ok_or_else(|| AppError::field("sale_price", "required"))?,
            currency: opt(&self.currency),
            vat_rate: decimal("vat_rate", &self.vat_rate)?,
            availability: opt(&self.availability).and_then(|v| Availability::parse(&v)),
            images: self
                .images
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            status: opt(&self.status).and_then(|v| ProductStatus::parse(&v)),
        })
    }
}

async fn form_page(
    state: &AppState,
    session: &UiSession,
    id: Option<ProductId>,
    form: &ProductForm,
    errors: Value,
    status: StatusCode,
) -> Result<Response, UiError> {
    let org = session.caller.org_id;
    let ctx = context! {
        id => id.map(|i| i.to_string()), form => ser(form), errors => ser(&errors),
        categories => ser(&service::list_categories(&state.db, org).await?),
        brands => ser(&service::list_brands(&state.db, org).await?),
        types => ser(&service::list_product_types(&state.db, org).await?),
        statuses => ser(&ProductStatus::ALL), availabilities => ser(&Availability::ALL),
        ..session.context("catalog")
    };
    page("catalog_form.html", status, ctx)
}

pub(super) async fn new_form(
    State(state): State<AppState>,
    session: UiSession,
) -> Result<Response, UiError> {
    session.caller.require(Permission::Write)?;
    let form = ProductForm {
        currency: "EUR".into(),
        vat_rate: "20".into(),
        status: "draft".into(),
        ..Default::default()
    };
    form_page(&state, &session, None, &form, Value::Null, StatusCode::OK).await
}

pub(super) async fn edit_form(
    State(state): State<AppState>,
    session: UiSession,
    ApiPath(id): ApiPath<ProductId>,
) -> Result<Response, UiError> {
    let p = service::get_product(&state.db, session.caller.org_id, id).await?;
    session.caller.require(Permission::Write)?;
    form_page(
        &state,
        &session,
        Some(id),
        &ProductForm::from_product(&p),
        Value::Null,
        StatusCode::OK,
    )
    .await
}

async fn save(
    state: AppState,
    session: UiSession,
    id: Option<ProductId>,
    form: ProductForm,
) -> Result<Response, UiError> {
    session.check_csrf(&form.csrf_token)?;
    let result = match form.to_input() {
        Ok(input) => match id {
            Some(id) => service::update_product(&state.db, &session.caller, id, input).await,
            None => service::create_product(&state.db, &session.caller, input).await,
        },
        Err(e) => Err(e),
    };
    match result {
        Ok(p) => Ok(Redirect::to(&format!("/catalog/products/{}", p.id)).into_response()),
        Err(e)
            if matches!(
                e.code,
                ErrorCode::ValidationFailed | ErrorCode::AlreadyExists
            ) =>
        {
            let errors = match e.code {
                ErrorCode::AlreadyExists => {
                    serde_json::json!([{"field": "sku", "reason": "another product has this SKU"}])
                }
                _ => e.details["fields"].clone(),
            };
            form_page(
                &state,
                &session,
                id,
                &form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn create(
    State(state): State<AppState>,
    session: UiSession,
    form: Result<Form<ProductForm>, FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) = form.map_err(bad_form)?;
    save(state, session, None, form).await
}

pub(super) async fn update(
    State(state): State<AppState>,
    session: UiSession,
    ApiPath(id): ApiPath<ProductId>,
    form: Result<Form<ProductForm>, FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) = form.map_err(bad_form)?;
    save(state, session, Some(id), form).await
}

#[derive(Debug, Deserialize)]
pub(super) struct AdjustForm {
    #[serde(default)]
    csrf_token: String,
    location_id: LocationId,
    kind: MovementKind,
    quantity: i64,
    #[serde(default)]
    reason: String,
}

pub(super) async fn adjust(
    State(state): State<AppState>,
    session: UiSession,
    ApiPath(id): ApiPath<ProductId>,
    form: Result<Form<AdjustForm>, FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) = form.map_err(bad_form)?;
    session.check_csrf(&form.csrf_token)?;
    let input = AdjustmentInput {
        product_id: id,
        location_id: form.location_id,
        kind: form.kind,
        quantity: form.quantity,
        reason: Some(form.reason),
        reference: None,
        low_stock_threshold: None,
    };
    service::adjust(&state.db, &session.caller, input).await?;
    Ok(Redirect::to(&format!("/catalog/products/{id}")).into_response())
}
