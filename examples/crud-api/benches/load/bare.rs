//! The same reads without Palisade, for the overhead figure: axum and the mongodb driver,
//! the token checked with jsonwebtoken, the owner pinned by hand, the client's filter used as
//! sent; no guard, no scope, no header preset, no request context, no rate limit, no audit,
//! no log. Each read sends the command the service sends (the client's filter and the owner
//! under one `$and`), so the database does the same work for both and the difference is
//! the layers'.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use bson::{Bson, Document, doc, oid::ObjectId};
use futures_util::TryStreamExt as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mongodb::options::FindOptions;
use serde::Deserialize;
use serde_json::Value;

struct Bare {
    client: mongodb::Client,
    accounts: String,
    key: DecodingKey,
    validation: Validation,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    organization_id: String,
}

#[derive(Deserialize)]
struct List {
    filters: Option<String>,
}

fn claims(bare: &Bare, headers: &HeaderMap) -> Result<Claims, StatusCode> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    jsonwebtoken::decode::<Claims>(token, &bare.key, &bare.validation)
        .map(|data| data.claims)
        .map_err(|_| StatusCode::UNAUTHORIZED)
}

fn collection(bare: &Bare, claims: &Claims, entity: &str) -> mongodb::Collection<Document> {
    bare.client
        .database(&format!("{}_org_{}", bare.accounts, claims.organization_id))
        .collection(entity)
}

async fn list(
    State(bare): State<Arc<Bare>>,
    Path(entity): Path<String>,
    Query(query): Query<List>,
    headers: HeaderMap,
) -> Result<Json<Value>, StatusCode> {
    let claims = claims(&bare, &headers)?;
    let filter = match query.filters {
        Some(text) => match Bson::try_from(
            serde_json::from_str::<Value>(&text).map_err(|_| StatusCode::BAD_REQUEST)?,
        ) {
            Ok(Bson::Document(filter)) => filter,
            _ => return Err(StatusCode::BAD_REQUEST),
        },
        None => Document::new(),
    };
    let options = FindOptions::builder()
        .limit(100)
        .sort(doc! {"_id": 1})
        .build();
    let found: Vec<Document> = collection(&bare, &claims, &entity)
        .find(doc! {"$and": [filter], "user_id": &claims.sub})
        .with_options(options)
        .await
        .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?
        .try_collect()
        .await
        .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    Ok(Json(Value::Array(
        found
            .into_iter()
            .map(|d| Bson::Document(d).into_relaxed_extjson())
            .collect(),
    )))
}

async fn read(
    State(bare): State<Arc<Bare>>,
    Path((entity, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, StatusCode> {
    let claims = claims(&bare, &headers)?;
    let id = ObjectId::parse_str(&id).map_err(|_| StatusCode::NOT_FOUND)?;
    collection(&bare, &claims, &entity)
        .find_one(doc! {"$and": [{"_id": id}], "user_id": &claims.sub})
        .await
        .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?
        .map(|d| Json(Bson::Document(d).into_relaxed_extjson()))
        .ok_or(StatusCode::NOT_FOUND)
}

/// Serves the bare reads on an ephemeral port; its `http://127.0.0.1:PORT`.
pub(crate) async fn serve(mongo_url: &str, accounts: &str, key: &[u8]) -> String {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&["crud-api"]);
    let bare = Arc::new(Bare {
        client: mongodb::Client::with_uri_str(mongo_url).await.unwrap(),
        accounts: accounts.to_owned(),
        key: DecodingKey::from_secret(key).unwrap(),
        validation,
    });
    let app = axum::Router::new()
        .route("/api/v1/{entity}", get(list))
        .route("/api/v1/{entity}/{id}", get(read))
        .with_state(bare);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}
