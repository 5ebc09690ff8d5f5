//! The OpenAPI 3.1 document, generated from the handlers' annotations, served at
//! `/api/openapi.json`, and Swagger UI (vendored in the binary: works offline) at `/docs`.

use axum::Router;
use comptoir_kernel::AppState;
use utoipa::openapi::OpenApi as Spec;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Comptoir API",
        description = "Operations platform for merchants and retail chains. Errors are JSON \
            `{code, message, details, correlation_id}` with a stable `code`.",
    ),
    modifiers(&Security),
    components(schemas(comptoir_kernel::error::ErrorBody, comptoir_kernel::error::FieldError))
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, spec: &mut Spec) {
        let components = spec.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or cpt_ API key")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
        );
    }
}

/// Splits the API into the axum router and its OpenAPI document.
pub fn split(api: OpenApiRouter<AppState>) -> (Router<AppState>, Spec) {
    let (router, mut spec) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api)
        .split_for_parts();
    spec.info.version = env!("CARGO_PKG_VERSION").to_owned();
    (router, spec)
}

/// `/api/openapi.json` and the Swagger UI at `/docs`.
pub fn docs(spec: Spec) -> Router<AppState> {
    Router::new().merge(SwaggerUi::new("/docs").url("/api/openapi.json", spec))
}
