//! Reports, from PostgreSQL through the read-only login, as the signed-in user.

use axum::Json;
use axum::extract::State;
use serde_json::Value;

use super::user::User;
use crate::error::ApiError;
use crate::extract::Params;
use crate::sql::{ReportError, ReportQuery};
use crate::state::AppState;

/// `GET /api/v1/reports/documents-per-project?sort=&project_id=`.
pub(crate) async fn documents_per_project(
    State(state): State<AppState>,
    user: User,
    Params(query): Params<ReportQuery>,
) -> Result<Json<Value>, ApiError> {
    match state.sql().documents_per_project(user.id(), &query).await {
        Ok(rows) => Ok(Json(rows)),
        Err(ReportError::Sort) => Err(ApiError::bad_request(
            "crud/sort-invalid",
            "sort names project_id or documents, optionally with :asc or :desc",
        )),
        Err(ReportError::ProjectId) => Err(ApiError::bad_request(
            "crud/project-id-invalid",
            "project_id is a record id (24 hex digits)",
        )),
        Err(ReportError::Query(error)) => Err(error.into()),
    }
}
