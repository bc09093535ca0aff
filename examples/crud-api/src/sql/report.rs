//! `GET /api/v1/reports/documents-per-project`: how many documents the signed-in user has in
//! each project, read with the read-only login as the user. `sort` goes through an
//! allow-list of columns and `project_id` is a bound parameter, so neither can carry SQL.

use palisade_sql::{Dialect, QueryError, SortKeys};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row as _;

use super::Sql;

/// The report's query string.
#[derive(Debug, Deserialize)]
pub(crate) struct ReportQuery {
    /// `documents:desc`, `-project_id`, `project_id asc`, ... (default `project_id`).
    sort: Option<String>,
    /// Only this project.
    project_id: Option<String>,
}

/// Why a report request is refused (`400`).
#[derive(Debug)]
pub(crate) enum ReportError {
    /// `sort` names no allowed column or is malformed.
    Sort,
    /// `project_id` is not a record id.
    ProjectId,
    /// The database.
    Query(QueryError),
}

impl From<QueryError> for ReportError {
    fn from(error: QueryError) -> Self {
        Self::Query(error)
    }
}

/// The columns a report may be sorted by.
fn sort_keys() -> SortKeys {
    #[allow(
        clippy::expect_used,
        reason = "two fixed, valid column names: tested by every report"
    )]
    SortKeys::new(Dialect::Postgres, ["project_id", "documents"]).expect("valid column names")
}

impl Sql {
    /// The report's rows: `[{project_id, documents}]`.
    pub(crate) async fn documents_per_project(
        &self,
        user: &str,
        query: &ReportQuery,
    ) -> Result<Value, ReportError> {
        if query
            .project_id
            .as_deref()
            .is_some_and(|id| bson::oid::ObjectId::parse_str(id).is_err())
        {
            return Err(ReportError::ProjectId);
        }
        let order = sort_keys()
            .resolve_list(query.sort.as_deref().unwrap_or("project_id"), 2)
            .map_err(|_| ReportError::Sort)?
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT project_id, count(*) AS documents FROM documents \
             WHERE user_id = :user_id AND (CAST(:project_id AS TEXT) IS NULL OR project_id = :project_id) \
             GROUP BY project_id ORDER BY {order}"
        );
        let rows = self
            .read
            .as_user(user)
            .sql(&sql)
            .bind("user_id", user)
            .bind("project_id", query.project_id.as_deref())
            .fetch_all(&self.reader)
            .await?;
        Ok(Value::Array(
            rows.iter()
                .map(|row| {
                    json!({
                        "project_id": row.try_get::<Option<String>, _>("project_id").ok().flatten(),
                        "documents": row.try_get::<i64, _>("documents").unwrap_or_default(),
                    })
                })
                .collect(),
        ))
    }
}
