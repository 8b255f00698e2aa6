//! Stand-ins for the ledger services Mooring reads, shared by the end-to-end tests
//! (`tests/tests/e2e/`) and `bench-helper`.

pub mod rpc_ledger;
pub mod rpc_standin;
