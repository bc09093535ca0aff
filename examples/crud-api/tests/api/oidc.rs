//! Sign-in through a real OpenID provider (panva's oidc-provider from npm, under Node on
//! loopback): the authorization-code flow with PKCE, the session-code exchange, accounts
//! linked by the provider's subject, and the replays and forgeries of the threat list.

use std::path::PathBuf;

use palisade_auth::PkceChallenge;
use palisade_test::node::{NodeServer, spawn};
use palisade_test::unique_name;
use reqwest::{Client, StatusCode, Url};
use serde_json::{Value, json};

use crate::common::{Started, bind, call, claims, database_name, secret_file, serve_on, sign_up};

const FRONTEND: &str = "http://127.0.0.1:9/app";

/// The provider, with the service's callback as its client's redirect URI.
fn provider(redirect: &str) -> (NodeServer, Value) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/palisade-auth/tests/node/oidc_provider.mjs");
    let server = spawn(&script, "oidc-provider", &[redirect]);
    let ready: Value = serde_json::from_str(server.ready_line()).unwrap();
    (server, ready)
}

async fn start() -> (Started, NodeServer) {
    let listener = bind().await;
    let address = listener.local_addr().unwrap();
    let redirect = format!("http://{address}/api/v1/auth/callback");
    let (server, ready) = provider(&redirect);
    let text = |key: &str| ready[key].as_str().unwrap().to_owned();
    let started = serve_on(
        listener,
        &database_name(),
        &[
            ("OIDC_ISSUER", text("issuer")),
            ("OIDC_CLIENT_ID", text("client_id")),
            ("OIDC_CLIENT_SECRET", secret_file(&text("client_secret"))),
            ("OIDC_REDIRECT_URL", redirect),
            ("FRONTEND_URL", FRONTEND.to_owned()),
            ("RATE_LIMIT_ENABLED", "false".to_owned()),
        ],
    )
    .await;
    (started, server)
}

/// A browser: cookies kept, redirects followed by hand.
fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Follows redirects from `url` until one leads to `stop` (a URL prefix); that URL.
async fn follow(browser: &Client, url: &str, stop: &str) -> Url {
    let mut next = Url::parse(url).unwrap();
    for _ in 0..20 {
        if next.as_str().starts_with(stop) {
            return next;
        }
        let response = browser.get(next.clone()).send().await.unwrap();
        let location = response
            .headers()
            .get("location")
            .unwrap_or_else(|| panic!("no redirect from {next}: {}", response.status()))
            .to_str()
            .unwrap()
            .to_owned();
        next = next.join(&location).unwrap();
    }
    panic!("no redirect to {stop}");
}

/// Signs `user` in at the provider from the service's login route; the callback URL the
/// provider sends the browser to (not yet visited).
async fn at_provider(started: &Started, user: &str, challenge: Option<&str>) -> Url {
    let mut login = Url::parse(&format!("{}/auth/login", started.base)).unwrap();
    login.query_pairs_mut().append_pair("login_hint", user);
    if let Some(challenge) = challenge {
        login
            .query_pairs_mut()
            .append_pair("code_challenge", challenge);
    }
    follow(
        &browser(),
        login.as_str(),
        &format!("{}/auth/callback", started.base),
    )
    .await
}

/// Visits the callback; the session code the front end receives.
async fn session_code(callback: &Url) -> String {
    let response = browser().get(callback.clone()).send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{:?}",
        response.text().await
    );
    let landing = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert!(landing.as_str().starts_with(FRONTEND), "{landing}");
    landing
        .query_pairs()
        .find(|(name, _)| name == "session_code")
        .map(|(_, code)| code.into_owned())
        .unwrap()
}

async fn exchange(
    http: &Client,
    started: &Started,
    code: &str,
    verifier: Option<&str>,
) -> (StatusCode, Value) {
    let mut url = Url::parse(&format!("{}/session", started.base)).unwrap();
    url.query_pairs_mut().append_pair("session_code", code);
    if let Some(verifier) = verifier {
        url.query_pairs_mut().append_pair("code_verifier", verifier);
    }
    call(http.get(url)).await
}

#[tokio::test]
async fn a_provider_sign_in_ends_in_a_session_code_exchanged_once_for_a_token() {
    let (started, _provider) = start().await;
    let http = Client::new();
    let user = unique_name("oidc");
    let callback = at_provider(&started, &user, None).await;
    let code = session_code(&callback).await;
    let (status, body) = exchange(&http, &started, &code, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&token)["email"], format!("{user}@example.com"));
    let (status, _) = call(
        http.get(format!("{}/clients", started.base))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // The code, the callback and a made-up state are each good for nothing now.
    assert_eq!(
        exchange(&http, &started, &code, None).await.0,
        StatusCode::BAD_REQUEST
    );
    let (status, problem) = call(browser().get(callback.clone())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["step"], "state");
    let mut forged = callback.clone();
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .map(|(k, v)| {
            let value = if k == "state" {
                "A".repeat(43)
            } else {
                v.into_owned()
            };
            (k.into_owned(), value)
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    assert_eq!(call(browser().get(forged)).await.0, StatusCode::BAD_REQUEST);
    let (status, _) = call(browser().get(format!(
        "{}/auth/callback?error=access_denied",
        started.base
    )))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Signing in again finds the same account (linked by the provider's subject).
    let again = session_code(&at_provider(&started, &user, None).await).await;
    let (_, body) = exchange(&http, &started, &again, None).await;
    let second = body["access_token"].as_str().unwrap();
    assert_eq!(claims(second)["user_id"], claims(&token)["user_id"]);
}

#[tokio::test]
async fn a_session_code_bound_to_the_front_end_needs_its_verifier() {
    let (started, _provider) = start().await;
    let http = Client::new();
    let user = unique_name("oidc");
    let verifier = "a-front-end-verifier-of-at-least-forty-three-characters";
    let challenge = PkceChallenge::of_verifier(verifier).encoded();
    // Without the verifier (an intercepted code): refused, and the code is spent.
    let code = session_code(&at_provider(&started, &user, Some(&challenge)).await).await;
    assert_eq!(
        exchange(&http, &started, &code, None).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        exchange(&http, &started, &code, Some(verifier)).await.0,
        StatusCode::BAD_REQUEST
    );
    // With it: a token.
    let code = session_code(&at_provider(&started, &user, Some(&challenge)).await).await;
    let (status, body) = exchange(&http, &started, &code, Some(verifier)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_provider_account_never_takes_over_a_password_account_with_its_email() {
    let (started, _provider) = start().await;
    let http = Client::new();
    let victim = unique_name("victim");
    let email = format!("{victim}@example.com");
    sign_up(&http, &started.base, &email, "the victim's long password").await;
    let response = browser()
        .get(at_provider(&started, &victim, None).await)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    // The password account is untouched and still signs in.
    let (status, body) = call(
        http.post(format!("{}/signin", started.base))
            .json(&json!({"email": email, "password": "the victim's long password"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
