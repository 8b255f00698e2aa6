use super::*;

const NOW: u64 = 1_700_000_000;

struct Fixture {
    server: Keypair,
    client: Keypair,
    network: Network,
}

impl Fixture {
    fn new() -> Self {
        Self { server: Keypair::generate(), client: Keypair::generate(), network: Network::testnet() }
    }

    fn client_account(&self) -> ClientAccount {
        ClientAccount::Account { key: self.client.public_key(), memo: None }
    }

    fn issue_for(&self, client: ClientAccount, client_domain: Option<(&str, PublicKey)>) -> IssuedChallenge {
        build(&ChallengeSpec {
            server: &self.server,
            network: &self.network,
            client,
            home_domain: "anchor.example",
            web_auth_domain: "anchor.example",
            client_domain,
            now: NOW,
        })
        .unwrap()
    }

    fn read_at(&self, xdr: &str, now: u64) -> Result<ReadChallenge, Error> {
        read(
            xdr,
            &Expectations {
                server: self.server.public_key(),
                network: &self.network,
                home_domain_ok: &|d| d == "anchor.example",
                web_auth_domain: "anchor.example",
                now,
            },
        )
    }

    fn master(&self) -> Vec<Signer> {
        vec![Signer { key: self.client.public_key(), weight: 1 }]
    }
}

fn envelope(xdr: &str) -> TransactionV1Envelope {
    match TransactionEnvelope::from_xdr_base64(xdr, Limits::none()).unwrap() {
        TransactionEnvelope::Tx(e) => e,
        _ => unreachable!(),
    }
}

#[test]
fn built_challenge_has_the_spec_layout() {
    let f = Fixture::new();
    let issued = f.issue_for(f.client_account(), None);
    let env = envelope(&issued.xdr);
    assert_eq!(env.tx.seq_num.0, 0);
    assert_eq!(env.tx.source_account, server_source(&f.server.public_key()));
    let Preconditions::Time(tb) = &env.tx.cond else { panic!("no time bounds") };
    assert_eq!((tb.min_time.0, tb.max_time.0), (NOW, NOW + 900));
    let ops = env.tx.operations.as_vec();
    assert_eq!(ops.len(), 2);
    let OperationBody::ManageData(first) = &ops[0].body else { panic!() };
    assert_eq!(first.data_name.0.as_vec().as_slice(), b"anchor.example auth");
    assert_eq!(ops[0].source_account, Some(f.client_account().to_xdr()));
    let nonce = first.data_value.as_ref().unwrap().0.as_vec();
    assert_eq!(nonce.len(), 64);
    assert_eq!(B64.decode(nonce).unwrap().len(), 48);
    let OperationBody::ManageData(wad) = &ops[1].body else { panic!() };
    assert_eq!(wad.data_name.0.as_vec().as_slice(), b"web_auth_domain");
    assert_eq!(ops[1].source_account, Some(server_source(&f.server.public_key())));
    assert_eq!(env.signatures.len(), 1);
    assert_eq!(issued.hash, env.tx.hash(f.network.id()).unwrap());
}

#[test]
fn nonces_differ_between_challenges() {
    let f = Fixture::new();
    let a = f.issue_for(f.client_account(), None);
    let b = f.issue_for(f.client_account(), None);
    assert_ne!(a.hash, b.hash);
}

#[test]
fn client_signed_challenge_verifies() {
    let f = Fixture::new();
    let issued = f.issue_for(f.client_account(), None);
    let signed = sign(&issued.xdr, &f.network, &f.client).unwrap();
    let read = f.read_at(&signed, NOW + 10).unwrap();
    assert_eq!(read.client, f.client_account());
    assert_eq!(read.home_domain, "anchor.example");
    assert_eq!(read.hash, issued.hash);
    assert_eq!(read.verify_signers(&f.master(), 1).unwrap(), vec![f.client.public_key()]);
}

#[test]
fn unsigned_by_client_is_refused() {
    let f = Fixture::new();
    let issued = f.issue_for(f.client_account(), None);
    let read = f.read_at(&issued.xdr, NOW).unwrap();
    assert!(read.verify_signers(&f.master(), 1).is_err());
}

#[test]
fn stray_signature_is_refused() {
    let f = Fixture::new();
    let issued = f.issue_for(f.client_account(), None);
    let signed = sign(&issued.xdr, &f.network, &f.client).unwrap();
    let signed = sign(&signed, &f.network, &Keypair::generate()).unwrap();
    let read = f.read_at(&signed, NOW).unwrap();
    assert!(read.verify_signers(&f.master(), 1).is_err());
}

#[test]
fn weights_must_reach_the_threshold_and_count_once() {
    let f = Fixture::new();
    let other = Keypair::generate();
    let signers =
        vec![Signer { key: f.client.public_key(), weight: 1 }, Signer { key: other.public_key(), weight: 2 }];
    let issued = f.issue_for(f.client_account(), None);
    let once = sign(&issued.xdr, &f.network, &f.client).unwrap();
    let twice = sign(&once, &f.network, &f.client).unwrap();
    assert!(f.read_at(&twice, NOW).unwrap().verify_signers(&signers, 2).is_err());
    let both = sign(&once, &f.network, &other).unwrap();
    assert_eq!(f.read_at(&both, NOW).unwrap().verify_signers(&signers, 3).unwrap().len(), 2);
    assert!(f.read_at(&both, NOW).unwrap().verify_signers(&signers, 4).is_err());
}

#[test]
fn server_key_never_counts_as_client_weight() {
    let f = Fixture::new();
    let signers = vec![Signer { key: f.server.public_key(), weight: 10 }];
    let issued = f.issue_for(f.client_account(), None);
    assert!(f.read_at(&issued.xdr, NOW).unwrap().verify_signers(&signers, 1).is_err());
}

#[test]
fn expired_and_not_yet_valid_are_refused() {
    let f = Fixture::new();
    let signed = sign(&f.issue_for(f.client_account(), None).xdr, &f.network, &f.client).unwrap();
    assert_eq!(f.read_at(&signed, NOW + 901).unwrap_err(), Error::ChallengeExpired);
    assert!(f.read_at(&signed, NOW - MIN_TIME_GRACE_SECS - 1).is_err());
    assert!(f.read_at(&signed, NOW + 900).is_ok());
}

#[test]
fn other_network_or_other_server_is_refused() {
    let f = Fixture::new();
    let signed = sign(&f.issue_for(f.client_account(), None).xdr, &f.network, &f.client).unwrap();
    let public = Network::public();
    let on_public = read(
        &signed,
        &Expectations {
            server: f.server.public_key(),
            network: &public,
            home_domain_ok: &|_| true,
            web_auth_domain: "anchor.example",
            now: NOW,
        },
    );
    assert!(on_public.is_err());
    let other_server = read(
        &signed,
        &Expectations {
            server: Keypair::generate().public_key(),
            network: &f.network,
            home_domain_ok: &|_| true,
            web_auth_domain: "anchor.example",
            now: NOW,
        },
    );
    assert!(other_server.is_err());
}

#[test]
fn tampering_breaks_the_server_signature() {
    let f = Fixture::new();
    let issued = f.issue_for(f.client_account(), None);
    let mut env = envelope(&issued.xdr);
    // Stretch the validity window: the server signature no longer covers it.
    env.tx.cond =
        Preconditions::Time(TimeBounds { min_time: TimePoint(NOW), max_time: TimePoint(NOW + 99_999) });
    let xdr = TransactionEnvelope::Tx(env).to_xdr_base64(Limits::none()).unwrap();
    let signed = sign(&xdr, &f.network, &f.client).unwrap();
    assert!(f.read_at(&signed, NOW).is_err());
}

#[test]
fn wrong_home_or_web_auth_domain_is_refused() {
    let f = Fixture::new();
    let issued = f.issue_for(f.client_account(), None);
    let wrong_home = read(
        &issued.xdr,
        &Expectations {
            server: f.server.public_key(),
            network: &f.network,
            home_domain_ok: &|d| d == "other.example",
            web_auth_domain: "anchor.example",
            now: NOW,
        },
    );
    assert!(wrong_home.is_err());
    let wrong_wad = read(
        &issued.xdr,
        &Expectations {
            server: f.server.public_key(),
            network: &f.network,
            home_domain_ok: &|_| true,
            web_auth_domain: "evil.example",
            now: NOW,
        },
    );
    assert!(wrong_wad.is_err());
}

#[test]
fn memo_and_muxed_clients_round_trip() {
    let f = Fixture::new();
    let with_memo = ClientAccount::Account { key: f.client.public_key(), memo: Some(12345) };
    let signed = sign(&f.issue_for(with_memo, None).xdr, &f.network, &f.client).unwrap();
    let read = f.read_at(&signed, NOW).unwrap();
    assert_eq!(read.client.to_string(), format!("{}:12345", f.client.public_key()));
    read.verify_signers(&f.master(), 1).unwrap();

    let muxed = ClientAccount::Muxed { key: f.client.public_key(), id: 5 };
    let signed = sign(&f.issue_for(muxed, None).xdr, &f.network, &f.client).unwrap();
    let read = f.read_at(&signed, NOW).unwrap();
    assert_eq!(read.client, muxed);
    read.verify_signers(&f.master(), 1).unwrap();
}

#[test]
fn client_domain_key_must_sign() {
    let f = Fixture::new();
    let wallet = Keypair::generate();
    let issued = f.issue_for(f.client_account(), Some(("wallet.example", wallet.public_key())));
    let by_client = sign(&issued.xdr, &f.network, &f.client).unwrap();
    let read = f.read_at(&by_client, NOW).unwrap();
    assert_eq!(read.client_domain, Some(("wallet.example".to_string(), wallet.public_key())));
    assert!(read.verify_signers(&f.master(), 1).is_err());
    let by_both = sign(&by_client, &f.network, &wallet).unwrap();
    f.read_at(&by_both, NOW).unwrap().verify_signers(&f.master(), 1).unwrap();
}

#[test]
fn garbage_is_refused_without_panicking() {
    let f = Fixture::new();
    for junk in ["", "AAAA", "not base64 at all", &"A".repeat(20_000)] {
        assert!(f.read_at(junk, NOW).is_err());
    }
}
