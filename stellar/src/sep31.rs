//! The SEP-31 transaction status machine: the one place that says which status may
//! follow which. Callers persist a transition with compare-and-set on the old status.

use std::fmt;
use std::str::FromStr;

/// Stored as its SEP-31 name (text), so a column holds what the SEP says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "sea-orm", derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter))]
#[cfg_attr(feature = "sea-orm", sea_orm(rs_type = "String", db_type = "Text"))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum Status {
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "pending_sender"))]
    PendingSender,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "pending_stellar"))]
    PendingStellar,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "pending_receiver"))]
    PendingReceiver,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "pending_external"))]
    PendingExternal,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "pending_customer_info_update"))]
    PendingCustomerInfoUpdate,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "pending_transaction_info_update"))]
    PendingTransactionInfoUpdate,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "completed"))]
    Completed,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "refunded"))]
    Refunded,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "expired"))]
    Expired,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "error"))]
    Error,
}

use Status::*;

impl Status {
    pub const ALL: [Status; 10] = [
        PendingSender,
        PendingStellar,
        PendingReceiver,
        PendingExternal,
        PendingCustomerInfoUpdate,
        PendingTransactionInfoUpdate,
        Completed,
        Refunded,
        Expired,
        Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PendingSender => "pending_sender",
            PendingStellar => "pending_stellar",
            PendingReceiver => "pending_receiver",
            PendingExternal => "pending_external",
            PendingCustomerInfoUpdate => "pending_customer_info_update",
            PendingTransactionInfoUpdate => "pending_transaction_info_update",
            Completed => "completed",
            Refunded => "refunded",
            Expired => "expired",
            Error => "error",
        }
    }

    /// No further transition: the sending anchor can stop polling.
    pub fn is_final(self) -> bool {
        matches!(self, Completed | Refunded | Expired)
    }

    /// Whether `self → to` is a legal SEP-31 transition.
    pub fn can_become(self, to: Status) -> bool {
        match (self, to) {
            (Completed | Refunded | Expired, _) => false,
            // `error` is the catch-all from any live status.
            (_, Error) => self != Error,
            (PendingSender, PendingStellar | PendingReceiver | Expired) => true,
            (PendingStellar, PendingReceiver | Completed) => true,
            // Before the payment (checks) or after it (payout and its detours).
            (
                PendingReceiver,
                PendingSender
                | PendingStellar
                | PendingExternal
                | PendingCustomerInfoUpdate
                | PendingTransactionInfoUpdate
                | Completed
                | Refunded,
            ) => true,
            (PendingCustomerInfoUpdate | PendingTransactionInfoUpdate, PendingReceiver) => true,
            (PendingExternal, Completed) => true,
            // Funds that arrived wrong are sent back.
            (Error, Refunded) => true,
            _ => false,
        }
    }

    pub fn transition(self, to: Status) -> Result<Status, IllegalTransition> {
        if self.can_become(to) { Ok(to) } else { Err(IllegalTransition { from: self, to }) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a transaction in {from} cannot become {to}")]
pub struct IllegalTransition {
    pub from: Status,
    pub to: Status,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Status::ALL.into_iter().find(|st| st.as_str() == s).ok_or_else(|| format!("unknown status {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>().unwrap(), s);
        }
        assert!("done".parse::<Status>().is_err());
    }

    /// The whole table, row by row: everything not listed is illegal.
    #[test]
    fn transition_table() {
        let legal: &[(Status, &[Status])] = &[
            (PendingSender, &[PendingStellar, PendingReceiver, Expired, Error]),
            (PendingStellar, &[PendingReceiver, Completed, Error]),
            (
                PendingReceiver,
                &[
                    PendingSender,
                    PendingStellar,
                    PendingExternal,
                    PendingCustomerInfoUpdate,
                    PendingTransactionInfoUpdate,
                    Completed,
                    Refunded,
                    Error,
                ],
            ),
            (PendingExternal, &[Completed, Error]),
            (PendingCustomerInfoUpdate, &[PendingReceiver, Error]),
            (PendingTransactionInfoUpdate, &[PendingReceiver, Error]),
            (Completed, &[]),
            (Refunded, &[]),
            (Expired, &[]),
            (Error, &[Refunded]),
        ];
        for (from, tos) in legal {
            for to in Status::ALL {
                assert_eq!(from.can_become(to), tos.contains(&to), "{from} -> {to}");
            }
        }
        assert!(Completed.transition(Error).is_err());
    }
}
