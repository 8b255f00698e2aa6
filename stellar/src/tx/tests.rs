use super::*;
use stellar_xdr::{PaymentResult, TransactionSignaturePayload, TransactionSignaturePayloadTaggedTransaction};

fn draft(source: &Keypair, ops: Vec<(Option<PublicKey>, Op)>) -> Draft {
    Draft {
        source: source.public_key(),
        account_sequence: 41,
        fee_per_op: BASE_FEE,
        max_time: 2_000_000_000,
        memo: None,
        ops,
    }
}

#[test]
fn a_signed_payment_carries_the_next_sequence_the_fee_and_a_valid_signature() {
    let source = Keypair::generate();
    let to = Keypair::generate().public_key();
    let usd = ClassicAsset::credit("USDC", source.public_key()).unwrap();
    let mut d = draft(
        &source,
        vec![(None, Op::Payment { destination: to, asset: usd, amount: "12.5".parse().unwrap() })],
    );
    d.memo = Some((MemoType::Id, "77".into()));
    let signed = sign(&d, &Network::testnet(), &[&source]).unwrap();
    let TransactionEnvelope::Tx(env) =
        TransactionEnvelope::from_xdr_base64(&signed.xdr, Limits::none()).unwrap()
    else {
        panic!("a v1 envelope")
    };
    assert_eq!(env.tx.seq_num.0, 42);
    assert_eq!(env.tx.fee, 100);
    assert_eq!(env.tx.memo, XdrMemo::Id(77));
    let OperationBody::Payment(p) = &env.tx.operations[0].body else { panic!("a payment") };
    assert_eq!(p.amount, 125_000_000);
    assert!(source.public_key().verify(&signed.hash, &env.signatures[0].signature.0));
    // The hash is the SHA-256 of the signature payload, as every SDK computes it.
    let payload = TransactionSignaturePayload {
        network_id: stellar_xdr::Hash(Network::testnet().id()),
        tagged_transaction: TransactionSignaturePayloadTaggedTransaction::Tx(env.tx.clone()),
    };
    use sha2::Digest;
    let expected: [u8; 32] = sha2::Sha256::digest(payload.to_xdr(Limits::none()).unwrap()).into();
    assert_eq!(signed.hash, expected);
}

#[test]
fn a_fee_bump_keeps_the_inner_transaction_and_pays_more() {
    let source = Keypair::generate();
    let d = draft(&source, vec![(None, Op::SetHomeDomain { domain: "anchor.example".into() })]);
    let signed = sign(&d, &Network::testnet(), &[&source]).unwrap();
    let bumped = fee_bump(&signed, 400, &source, &Network::testnet()).unwrap();
    assert_eq!(bumped.inner_hash, signed.hash, "the same inner transaction");
    assert_ne!(bumped.hash, signed.hash);
    let TransactionEnvelope::TxFeeBump(env) =
        TransactionEnvelope::from_xdr_base64(&bumped.xdr, Limits::none()).unwrap()
    else {
        panic!("a fee bump")
    };
    assert_eq!(env.tx.fee, 800);
    assert!(source.public_key().verify(&bumped.hash, &env.signatures[0].signature.0));
}

#[test]
fn bad_input_is_refused_not_encoded() {
    let source = Keypair::generate();
    assert!(ClassicAsset::credit("TOOLONGASSETCODE", source.public_key()).is_err());
    assert!(ClassicAsset::credit("US D", source.public_key()).is_err());
    let long = "a".repeat(33);
    let d = draft(&source, vec![(None, Op::SetHomeDomain { domain: long })]);
    assert!(sign(&d, &Network::testnet(), &[&source]).is_err());
    assert!(sign(&draft(&source, vec![]), &Network::testnet(), &[&source]).is_err());
    let trust_lumens = draft(&source, vec![(None, Op::ChangeTrust { asset: ClassicAsset::Native })]);
    assert!(sign(&trust_lumens, &Network::testnet(), &[&source]).is_err());
}

#[test]
fn results_read_into_horizon_codes() {
    let failed = result_xdr(
        TransactionResultResult::TxFailed(
            vec![OperationResult::OpInner(OperationResultTr::Payment(PaymentResult::NoTrust))]
                .try_into()
                .unwrap(),
        ),
        100,
    );
    let o = outcome(&failed).unwrap();
    assert!(!o.success);
    assert_eq!(o.to_string(), "tx_failed [op_no_trust]");
    let bad_seq = outcome(&result_xdr(TransactionResultResult::TxBadSeq, 100)).unwrap();
    assert!(bad_seq.is_bad_seq() && bad_seq.operations.is_empty());
    assert!(
        outcome(&result_xdr(TransactionResultResult::TxInsufficientFee, 0)).unwrap().is_insufficient_fee()
    );
    let ok = result_xdr(
        TransactionResultResult::TxSuccess(
            vec![OperationResult::OpInner(OperationResultTr::Payment(PaymentResult::Success))]
                .try_into()
                .unwrap(),
        ),
        100,
    );
    assert_eq!(
        outcome(&ok).unwrap(),
        Outcome { success: true, transaction: "tx_success".into(), operations: vec!["op_success".into()] }
    );
    assert!(outcome("not xdr").is_err());
}
