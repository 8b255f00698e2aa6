//! Which side of a SEP-31 transaction a customer stands on, and whether it is accepted
//! there: the one place that maps an asset's `sender_sep12_type` /
//! `receiver_sep12_type` to customers.

use mooring_tenants::{Asset, Tenant};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{Loaded, Status, status};
use crate::AnchorResult;
use mooring_entities::transaction::Model as Transaction;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Sender,
    Receiver,
}

impl Side {
    pub const BOTH: [Side; 2] = [Side::Sender, Side::Receiver];

    /// The SEP-12 type the asset asks of this side; `None`: no KYC for it.
    pub fn sep12_type(self, asset: &Asset) -> Option<&str> {
        match self {
            Self::Sender => asset.sender_sep12_type.as_deref(),
            Self::Receiver => asset.receiver_sep12_type.as_deref(),
        }
    }

    /// The side a customer type serves for this asset, if any.
    pub fn of_type(asset: &Asset, type_name: &str) -> Option<Side> {
        Self::BOTH.into_iter().find(|side| side.sep12_type(asset) == Some(type_name))
    }

    /// The customer on this side of a transaction.
    pub fn customer(self, t: &Transaction) -> Option<Uuid> {
        match self {
            Self::Sender => t.sender_id,
            Self::Receiver => t.receiver_id,
        }
    }

    /// The side `customer_id` stands on in a transaction.
    pub fn of_customer(t: &Transaction, customer_id: Uuid) -> Option<Side> {
        Self::BOTH.into_iter().find(|side| side.customer(t) == Some(customer_id))
    }
}

/// Whether this side of a transaction for `asset` may go ahead: the asset asks no KYC
/// of it, or the customer `loaded` is ACCEPTED for the type it asks. A type the tenant
/// no longer has cannot be checked, so it is not accepted.
pub fn accepted(tenant: &Tenant, asset: &Asset, side: Side, loaded: Option<&Loaded>) -> bool {
    let Some(type_name) = side.sep12_type(asset) else { return true };
    let Some(ty) = tenant.customer_type(type_name) else { return false };
    loaded.is_some() && status(ty, loaded) == Status::Accepted
}

/// [`accepted`] for the customer id a transaction (or a request) names on this side,
/// loaded within the tenant.
pub async fn accepted_id(
    db: &impl ConnectionTrait,
    tenant: &Tenant,
    asset: &Asset,
    side: Side,
    id: Option<Uuid>,
) -> AnchorResult<bool> {
    if side.sep12_type(asset).is_none() {
        return Ok(true);
    }
    let loaded = match id {
        Some(id) => super::load_by_id(db, tenant.id, id).await?,
        None => None,
    };
    Ok(accepted(tenant, asset, side, loaded.as_ref()))
}
