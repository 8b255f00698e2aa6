//! What one observed payment means, decided without I/O: is it a payment to the
//! account at all, does it match its transaction's asset and amount, is it late for the
//! transaction's quote.

use chrono::Utc;
use mooring_entities::{payment, transaction};
use mooring_stellar::Amount;
use mooring_stellar::sep31::Status;

use payment::Outcome;

/// What moves funds to an account: Horizon's payment operations, and the CAP-67
/// `transfer`/`mint` of an asset's contract (a smart wallet's payment, or any payment
/// read from RPC's events).
const PAYMENT_TYPES: [&str; 5] =
    ["payment", "path_payment_strict_receive", "path_payment_strict_send", "transfer", "mint"];

/// One payment to an account, parsed: an operation from Horizon's payments feed, or an
/// asset event from Stellar RPC. `operation_id` is its identity (with the network
/// epoch where ids can repeat after a reset).
#[derive(Debug, Clone)]
pub struct Observed {
    pub operation_id: String,
    pub paging_token: String,
    pub op_type: String,
    pub successful: bool,
    pub from: String,
    /// The `G...` receiving account (for a muxed destination, its base account).
    pub to: String,
    pub to_muxed: Option<String>,
    /// `native` for lumens.
    pub asset_code: String,
    pub asset_issuer: String,
    /// For path payments, the amount delivered (never `send_max`/`dest_min`).
    pub amount: Amount,
    /// `none`, `id`, `text`, `hash` or `return`.
    pub memo_type: String,
    pub memo: Option<String>,
    pub tx_hash: String,
    pub ledger_time: String,
}

/// What a payment means for the transaction its memo names (pure; see tests): the
/// outcome to record, the note explaining it, and what was paid beyond the amount due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub outcome: Outcome,
    pub note: String,
    pub excess: Amount,
}

pub fn decide(t: Option<&transaction::Model>, p: &Observed) -> Verdict {
    let verdict = |outcome, note: String| Verdict { outcome, note, excess: Amount::ZERO };
    let Some(t) = t else { return verdict(Outcome::Unmatched, "no transaction has this memo".into()) };
    if !matches!(t.status, Status::PendingSender | Status::PendingStellar) {
        let why = format!("transaction {} is {}, not waiting for funds", t.id, t.status);
        return verdict(Outcome::Unmatched, why);
    }
    let expected = Amount(t.amount_in);
    if p.asset_code != t.asset_code || p.asset_issuer != t.asset_issuer {
        let why = format!(
            "received {} {}:{} but expected {}:{}",
            p.amount, p.asset_code, p.asset_issuer, t.asset_code, t.asset_issuer
        );
        return verdict(Outcome::Mismatched, why);
    }
    let received = format!("received {} {}", p.amount, p.asset_code);
    match p.amount.cmp(&expected) {
        std::cmp::Ordering::Less => {
            verdict(Outcome::Mismatched, format!("{received}, less than the {expected} expected"))
        }
        std::cmp::Ordering::Equal => verdict(Outcome::Matched, received),
        std::cmp::Ordering::Greater => {
            let excess = Amount(p.amount.0 - expected.0);
            let note = format!("{received}: {excess} more than expected, to refund");
            Verdict { outcome: Outcome::Overpaid, note, excess }
        }
    }
}

pub(super) fn relevant(p: &Observed, account: &str) -> bool {
    p.successful && PAYMENT_TYPES.contains(&p.op_type.as_str()) && p.to == account && p.from != account
}
/// Why a payment is late for the quote behind its transaction (the ledger closed after
/// the quote expired), or `None` when it is not.
pub(super) fn late_for_quote(t: &transaction::Model, p: &Observed) -> Option<String> {
    let expires_at = t.quote_expires_at?;
    // Horizon always sends the close time; an unreadable one is judged as "now", the
    // moment we saw it, which can only be later than the ledger's.
    let closed = chrono::DateTime::parse_from_rfc3339(&p.ledger_time)
        .map(|c| c.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now());
    (closed > expires_at).then(|| {
        format!(
            "the payment (ledger closed {}) arrived after quote {} expired at {}",
            closed.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            t.quote_id.map(|q| q.to_string()).unwrap_or_default(),
            expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    })
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::fixtures::tx;

    fn paid(code: &str, amount: i64) -> Observed {
        Observed {
            operation_id: "1".into(),
            paging_token: "1".into(),
            op_type: "payment".into(),
            successful: true,
            from: "GSA".into(),
            to: "GDIST".into(),
            to_muxed: None,
            asset_code: code.into(),
            asset_issuer: "GISSUER".into(),
            amount: Amount(amount),
            memo_type: "id".into(),
            memo: Some("1".into()),
            tx_hash: "h".into(),
            ledger_time: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn verdicts() {
        let t = tx(Status::PendingSender, 100);
        let outcome = |t: Option<&transaction::Model>, p: &Observed| decide(t, p).outcome;
        assert_eq!(decide(Some(&t), &paid("SRT", 100)).outcome, Outcome::Matched);
        let over = decide(Some(&t), &paid("SRT", 150));
        assert_eq!((over.outcome, over.excess), (Outcome::Overpaid, Amount(50)));
        assert_eq!(outcome(Some(&t), &paid("SRT", 99)), Outcome::Mismatched);
        assert_eq!(outcome(Some(&t), &paid("USDC", 100)), Outcome::Mismatched);
        assert_eq!(outcome(None, &paid("SRT", 100)), Outcome::Unmatched);
        assert_eq!(outcome(Some(&tx(Status::Expired, 100)), &paid("SRT", 100)), Outcome::Unmatched);
        assert_eq!(outcome(Some(&tx(Status::PendingStellar, 100)), &paid("SRT", 100)), Outcome::Matched);
        assert_eq!(decide(Some(&t), &paid("SRT", 100)).excess, Amount::ZERO);
    }

    #[test]
    fn a_payment_is_late_for_its_quote_by_the_ledgers_close_time() {
        let at = |s: &str| s.parse::<chrono::DateTime<Utc>>().unwrap();
        let mut t = tx(Status::PendingSender, 100);
        assert_eq!(late_for_quote(&t, &paid("SRT", 100)), None, "no quote, never late");
        t.quote_id = Some(Uuid::nil());
        // The ledger closed at 2026-01-01T00:00:00Z (see `paid`).
        t.quote_expires_at = Some(at("2026-01-01T00:00:00Z"));
        assert_eq!(late_for_quote(&t, &paid("SRT", 100)), None, "on the deadline is in time");
        t.quote_expires_at = Some(at("2025-12-31T23:59:59Z"));
        let late = late_for_quote(&t, &paid("SRT", 100)).unwrap();
        assert!(late.contains("2026-01-01T00:00:00Z") && late.contains("2025-12-31T23:59:59Z"), "{late}");
        // An unreadable close time counts as "now": later than any past deadline.
        let mut garbled = paid("SRT", 100);
        garbled.ledger_time = "yesterday".into();
        assert!(late_for_quote(&t, &garbled).is_some());
    }

    #[test]
    fn only_successful_incoming_payments_count() {
        let mut p = paid("SRT", 1);
        assert!(relevant(&p, "GDIST"));
        p.successful = false;
        assert!(!relevant(&p, "GDIST"));
        let mut p = paid("SRT", 1);
        p.op_type = "create_account".into();
        assert!(!relevant(&p, "GDIST"));
        let mut outgoing = paid("SRT", 1);
        outgoing.from = "GDIST".into();
        outgoing.to = "GSA".into();
        assert!(!relevant(&outgoing, "GDIST"));
    }
}
