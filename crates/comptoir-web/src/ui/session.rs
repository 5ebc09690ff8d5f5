//! The signed-in user of a UI page, from the session cookie; pages without one redirect to
//! the sign-in form.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use comptoir_kernel::auth::api::{Me, load_me};
use comptoir_kernel::auth::caller::from_membership;
use comptoir_kernel::auth::{AuthVia, Caller, sessions};
use comptoir_kernel::ids::{OrgId, UserId};
use comptoir_kernel::{AppError, AppState, ErrorCode};

use super::UiError;

pub struct UiSession {
    pub caller: Caller,
    pub csrf_token: String,
    pub me: Me,
}

impl UiSession {
    /// Every form posts the session's CSRF token back; anything else is refused.
    pub fn check_csrf(&self, sent: &str) -> Result<(), UiError> {
        if !sent.is_empty() && constant_time_eq(sent.as_bytes(), self.csrf_token.as_bytes()) {
            Ok(())
        } else {
            Err(UiError(AppError::new(
                ErrorCode::CsrfFailed,
                "the form expired or did not come from this site; reload and try again",
            )))
        }
    }

    /// The common template variables of a signed-in page.
    pub fn context(&self, active: &str) -> minijinja::Value {
        minijinja::context! { me => super::ser(&self.me), csrf_token => &self.csrf_token, areas => super::ser(super::AREAS), active }
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn to_login(parts: &Parts) -> Response {
    let next = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    Redirect::to(&format!("/login?next={next}")).into_response()
}

impl FromRequestParts<AppState> for UiSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let session = sessions::from_headers(state, &parts.headers)
            .await
            .map_err(|e| UiError(e).into_response())?;
        let Some(session) = session else {
            return Err(to_login(parts));
        };
        let via = AuthVia::Session { id: session.id };
        let caller =
            match from_membership(state, OrgId(session.org_id), UserId(session.user_id), via).await
            {
                Ok(c) => c,
                Err(e) if e.code == ErrorCode::InternalError => {
                    return Err(UiError(e).into_response());
                }
                Err(_) => return Err(to_login(parts)),
            };
        let me = load_me(state, &caller)
            .await
            .map_err(|e| UiError(e).into_response())?;
        Ok(UiSession {
            caller,
            csrf_token: session.csrf_token,
            me,
        })
    }
}
