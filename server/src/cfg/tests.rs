use std::time::Duration;

use super::load::check_file_keys;
use super::*;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};

#[test]
fn a_misspelt_key_in_the_file_is_an_error_naming_it() {
    let dir = std::env::temp_dir().join(format!("mooring-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.toml");
    std::fs::write(&good, "bind = \"127.0.0.1:9\"\nconfig_poll_ms = \"2s\"\n").unwrap();
    check_file_keys(good.to_str().unwrap()).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "bind = \"127.0.0.1:9\"\nconfigpollms = 5\n").unwrap();
    let err = check_file_keys(bad.to_str().unwrap()).unwrap_err().to_string();
    assert!(err.contains("unknown setting `configpollms`") && err.contains("config_poll_ms"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn durations_and_secret_files() {
    let figment = Figment::from(Serialized::defaults(Config::default()))
        .merge(Toml::string("config_poll_ms = \"2s\"\njwt_ttl_secs = \"1h\"\nwatch_poll_ms = 700"));
    let cfg: Config = figment.extract().unwrap();
    assert_eq!(
        (cfg.config_poll_ms, cfg.jwt_ttl_secs, cfg.watch_poll_ms),
        (Duration::from_secs(2), Duration::from_secs(3600), Duration::from_millis(700))
    );

    let dir = std::env::temp_dir().join(format!("mooring-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token = dir.join("token");
    std::fs::write(&token, "an-operator-token-from-a-file\n").unwrap();
    let mut cfg = Config::default();
    let path = token.to_str().unwrap().to_string();
    cfg.read_secret_files(|k| (k == "MOORING_OPERATOR_TOKEN_FILE").then(|| path.clone())).unwrap();
    assert_eq!(cfg.operator_token.as_deref(), Some("an-operator-token-from-a-file"));
    let both = cfg.read_secret_files(|k| k.starts_with("MOORING_OPERATOR_TOKEN").then(|| path.clone()));
    assert!(both.unwrap_err().to_string().contains("not both"));
    let shown = cfg.effective();
    let token_line = shown.iter().find(|(k, _)| k == "operator_token").unwrap();
    assert_eq!(token_line.1, "<set>");
    assert!(!format!("{shown:?}").contains("an-operator-token"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn lists_read_as_lists_or_comma_text_and_zero_rates_are_refused() {
    let read = |toml: &str| Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(toml));
    let as_list: Config = read("trusted_proxies = [\"10.0.0.0/8\", \" 192.0.2.7 \"]").extract().unwrap();
    let as_text: Config = read("trusted_proxies = \"10.0.0.0/8, 192.0.2.7,\"").extract().unwrap();
    assert_eq!(as_list.trusted_proxies, vec!["10.0.0.0/8", "192.0.2.7"]);
    assert_eq!(as_text.trusted_proxies, as_list.trusted_proxies);
    assert!(Config::default().trusted_proxies.is_empty());

    let err = read("rate_limit_burst = 0").extract::<Config>().unwrap_err().to_string();
    assert!(err.contains("rate_limit_burst") && err.contains("greater than 0"), "{err}");
    let err = read("graphql_max_batch = 0").extract::<Config>().unwrap_err().to_string();
    assert!(err.contains("graphql_max_batch"), "{err}");
    assert!(read("rate_limit_burst = 3").extract::<Config>().is_ok());
    let err = read("database_max_connections = 0").extract::<Config>().unwrap_err().to_string();
    assert!(err.contains("database_max_connections") && err.contains("greater than 0"), "{err}");
    let pool = read("database_max_connections = 4").extract::<Config>().unwrap();
    assert_eq!(pool.database_max_connections, Some(4));
    assert_eq!(read("").extract::<Config>().unwrap().database_max_connections, None);
}
