//! End-to-end tests: each boots the real server on an ephemeral port and talks HTTP to
//! it, with a local Horizon stand-in. One binary, one module per area.
//!
//! Backends: SQLite + in-process stores by default; PostgreSQL + Redis when
//! `MOORING_TEST_DATABASE_URL` / `MOORING_TEST_REDIS_URL` are set (CI runs both).

mod admin;
mod audit;
mod callbacks;
mod common;
mod config_cache;
mod conformance;
mod console;
mod graphql_limits;
mod health;
mod horizon;
mod hostile;
mod interop_python;
mod metrics;
mod money_path;
mod offboarding;
mod outbound_fence;
mod pii;
mod rate_limit;
mod roles;
mod rollout;
mod rotation;
mod rpc;
mod sandbox;
mod sep1;
mod sep10;
mod sep12;
mod sep31;
mod sep38;
mod shared_stream;
mod watcher;
mod web_console;
mod web_console_config;
mod webhooks;
