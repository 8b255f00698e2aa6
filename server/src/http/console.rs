//! The admin console: GraphiQL at `GET /graphql` on the admin host, with every script
//! and stylesheet served from the binary (`server/assets/graphiql/`, versions in its
//! `VERSIONS.md`). The page works offline and no third-party code runs where an
//! operator pastes a token; a Content-Security-Policy keeps it that way, and each file
//! is pinned by its SHA-384 (the page's `integrity` attributes).

use axum::extract::{Path, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use crate::error::ApiError;

struct Asset {
    name: &'static str,
    bytes: &'static [u8],
    content_type: &'static str,
    integrity: &'static str,
}

macro_rules! asset {
    ($name:literal, $content_type:expr, $integrity:literal) => {
        Asset {
            name: $name,
            bytes: include_bytes!(concat!("../../assets/graphiql/", $name)),
            content_type: $content_type,
            integrity: $integrity,
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// In the order the page loads them.
const ASSETS: [Asset; 5] = [
    asset!(
        "graphiql.min.css",
        "text/css; charset=utf-8",
        "sha384-1el1QShFBnnXTx9x/Cprg82hZWKt0ry29OAYIXt05swbi0KcZDFoj0CWguMpopJr"
    ),
    asset!(
        "react.production.min.js",
        JS,
        "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z"
    ),
    asset!(
        "react-dom.production.min.js",
        JS,
        "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1"
    ),
    asset!("graphiql.min.js", JS, "sha384-9XdHu7ajgGJziD4J1zNBKQ842Q/+zZfDv+ib1eMhZWBH6hPAs806x+Jbcf0yNO6B"),
    asset!("init.js", JS, "sha384-ksLavq+tmPl9b/uJ+ehLILNtpuxhhy+r+LHfAizFm8op3/rIRXn/h9FNtguduxjK"),
];

const ASSET_PATH: &str = "/graphql/assets/";

/// Only this server's own files, and what GraphiQL's stylesheet inlines (`data:` fonts
/// and icons). No inline script, no framing, no form posts, no other origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

pub async fn page() -> Html<String> {
    let mut tags = String::new();
    for a in &ASSETS {
        let url = format!("{ASSET_PATH}{}", a.name);
        if a.name.ends_with(".css") {
            tags += &format!(r#"<link rel="stylesheet" href="{url}" integrity="{}">"#, a.integrity);
        } else {
            tags += &format!(r#"<script src="{url}" integrity="{}" defer></script>"#, a.integrity);
        }
        tags.push('\n');
    }
    Html(format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Mooring admin</title>\n{tags}</head>\n<body>\n<div id=\"graphiql\">Loading…</div>\n</body>\n</html>\n"
    ))
}

pub async fn asset(Path(name): Path<String>) -> Response {
    let Some(a) = ASSETS.iter().find(|a| a.name == name) else {
        return ApiError::NotFound("not found".into()).into_response();
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, a.content_type), (header::CACHE_CONTROL, "public, max-age=3600")],
        a.bytes,
    )
        .into_response()
}

/// Every admin-host response: the policy above, no sniffing, no referrer, and no
/// caching of API answers (they carry tenants' data) unless a handler chose otherwise.
pub async fn security_headers(req: Request, next: Next) -> Response {
    // The web console's pages post forms to themselves; nothing else on this host may.
    // They send their referrer to themselves only (`same-origin`): under `no-referrer` a
    // browser posts a form with `Origin: null`, and the console refuses posts whose
    // origin is not its own.
    let console = req.uri().path().starts_with("/console");
    let (policy, referrer) = if console {
        (super::web::CONTENT_SECURITY_POLICY, "same-origin")
    } else {
        (CONTENT_SECURITY_POLICY, "no-referrer")
    };
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static(referrer));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use sha2::{Digest, Sha384};

    use super::*;

    /// The pins are what the page promises the browser: a changed file must come with
    /// a new pin (`server/assets/graphiql/update.sh` prints them).
    #[test]
    fn every_asset_matches_its_pin() {
        for a in &ASSETS {
            let digest = base64::engine::general_purpose::STANDARD.encode(Sha384::digest(a.bytes));
            assert_eq!(a.integrity, format!("sha384-{digest}"), "{}", a.name);
        }
    }

    #[tokio::test]
    async fn the_page_loads_only_pinned_local_files() {
        let html = page().await.0;
        assert!(!html.contains("http"), "no absolute URL: {html}");
        assert!(!html.contains("<script>"), "no inline script");
        for a in &ASSETS {
            assert!(html.contains(&format!("{ASSET_PATH}{}\" integrity=\"{}\"", a.name, a.integrity)));
        }
    }
}
