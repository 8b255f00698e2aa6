//! Every metric family Mooring exports, with its help text (Prometheus' `# HELP`), plus
//! the build-info gauge and the standard process metrics read from `/proc` at scrape
//! time. `promtool check metrics` runs on the output in CI.

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram, gauge};

/// Registers every family's help text; once per process, with the recorder.
pub fn describe() {
    describe_counter!(
        "mooring_http_requests_total",
        "SEP and admin HTTP requests answered, by route, method, status class and tenant."
    );
    describe_histogram!(
        "mooring_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by route and tenant."
    );
    describe_histogram!(
        "mooring_transaction_create_batch_size",
        Unit::Count,
        "New SEP-31 transactions committed per database transaction (group commit)."
    );
    describe_counter!("mooring_sep10_challenges_total", "SEP-10 challenges issued, by tenant.");
    describe_counter!("mooring_sep10_tokens_total", "SEP-10 token exchanges, by tenant and outcome.");
    describe_counter!("mooring_sep38_quotes_total", "SEP-38 firm quotes given, by tenant.");
    describe_counter!(
        "mooring_rate_limited_total",
        "Requests refused with 429, by what was spent (tenant cap, client quota, admin)."
    );
    describe_counter!(
        "mooring_config_reloads_total",
        "Tenant snapshot refreshes after a configuration change, by how they were triggered."
    );
    describe_counter!(
        "mooring_callbacks_total",
        "Callback and webhook delivery attempts, by kind and outcome."
    );
    describe_gauge!("mooring_outbox_pending", "Callbacks and webhook deliveries waiting to be sent.");
    describe_gauge!(
        "mooring_outbox_oldest_pending_seconds",
        Unit::Seconds,
        "Age of the oldest callback or webhook delivery still waiting."
    );
    describe_counter!(
        "mooring_transaction_transitions_total",
        "SEP-31 transaction status changes, by new status."
    );
    describe_counter!(
        "mooring_watcher_records_total",
        "Ledger records the payment watcher handled, by outcome."
    );
    describe_counter!("mooring_watcher_reconnects_total", "Times a payment stream was reopened.");
    describe_gauge!(
        "mooring_watcher_lag_seconds",
        Unit::Seconds,
        "How far the payment watcher is behind the ledger, per watched account."
    );
    describe_gauge!("mooring_watcher_leases_held", "Watch leases this replica holds, by kind.");
    describe_counter!(
        "mooring_stream_records_total",
        "Records read from the shared network-wide payment streams, by whether a tenant was paid."
    );
    describe_gauge!("mooring_stream_members", "Accounts followed through the shared payment streams.");
    describe_counter!(
        "mooring_rpc_events_total",
        "Asset events read from Stellar RPC for followed accounts, by verdict: ours (a payment), counterfeit (a contract other than the asset's own SAC), malformed."
    );
    describe_counter!(
        "mooring_network_resets_total",
        "Network resets (testnet) a ledger follower detected and started again after."
    );
    describe_gauge!(
        "mooring_ledger_gap_ledgers",
        "Ledgers RPC no longer keeps whose payments were not read (0 once Horizon caught them up)."
    );
    describe_gauge!(
        "mooring_stream_lag_seconds",
        Unit::Seconds,
        "How far the shared payment stream is behind the ledger."
    );
    describe_counter!(
        "mooring_rate_feed_polls_total",
        "SEP-38 rate-feed polls, by whether they returned a rate."
    );
    describe_gauge!(
        "mooring_corridors_stale",
        "SEP-38 corridors whose rate is older than they allow (firm quotes refused)."
    );
    describe_gauge!("mooring_corridors_without_rate", "SEP-38 corridors with no rate at all.");
    describe_gauge!("mooring_db_pool_connections", "Database pool connections, by state.");
    describe_gauge!("mooring_build_info", "Always 1; the labels say which build is running.");
    describe_counter!(
        "process_cpu_seconds_total",
        Unit::Seconds,
        "Total user and system CPU time spent, in seconds."
    );
    describe_gauge!("process_resident_memory_bytes", Unit::Bytes, "Resident memory size, in bytes.");
    describe_gauge!("process_virtual_memory_bytes", Unit::Bytes, "Virtual memory size, in bytes.");
    describe_gauge!("process_open_fds", "Number of open file descriptors.");
    describe_gauge!("process_max_fds", "Maximum number of open file descriptors.");
    describe_gauge!(
        "process_start_time_seconds",
        Unit::Seconds,
        "Start time of the process since the Unix epoch, in seconds."
    );
    gauge!("mooring_build_info", "version" => env!("CARGO_PKG_VERSION"), "rustc" => RUSTC).set(1.0);
}

/// The compiler that built this binary, when the build recorded it.
const RUSTC: &str = match option_env!("MOORING_RUSTC_VERSION") {
    Some(v) => v,
    None => "unknown",
};

/// Samples the process metrics (Linux `/proc`; elsewhere nothing), just before a scrape.
pub fn sample_process() {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return };
    // Fields after the command name (which may hold spaces), from field 3 on.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else { return };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<f64>().ok());
    let ticks = 100.0; // USER_HZ on Linux
    let page = 4096.0;
    if let (Some(utime), Some(stime)) = (field(14), field(15)) {
        metrics::counter!("process_cpu_seconds_total").absolute(((utime + stime) / ticks) as u64);
    }
    if let Some(vsize) = field(23) {
        gauge!("process_virtual_memory_bytes").set(vsize);
    }
    if let Some(rss) = field(24) {
        gauge!("process_resident_memory_bytes").set(rss * page);
    }
    if let (Some(start), Some(boot)) = (field(22), boot_time()) {
        gauge!("process_start_time_seconds").set(boot + start / ticks);
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        gauge!("process_open_fds").set(fds.count() as f64);
    }
    if let Some(max) = std::fs::read_to_string("/proc/self/limits").ok().and_then(|l| {
        l.lines()
            .find(|line| line.starts_with("Max open files"))
            .and_then(|line| line.split_whitespace().nth(3).and_then(|v| v.parse::<f64>().ok()))
    }) {
        gauge!("process_max_fds").set(max);
    }
}

fn boot_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines().find_map(|l| l.strip_prefix("btime ")).and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn described_families_render_with_help() {
        let handle = crate::metrics::handle();
        metrics::counter!("mooring_sep38_quotes_total", "tenant" => "t").increment(1);
        metrics::counter!("mooring_sep10_tokens_total", "tenant" => "t", "outcome" => "issued").increment(1);
        let text = handle.render();
        assert!(text.contains("# HELP mooring_sep38_quotes_total "), "{text}");
        assert!(text.contains("# HELP mooring_sep10_tokens_total "), "{text}");
    }
}
