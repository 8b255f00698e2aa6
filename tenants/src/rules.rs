//! Every rule tenant configuration must follow, in one place: the admin API, the demo,
//! tests and benches all write through `admin`, which checks with these first.

use std::collections::HashSet;

use mooring_stellar::sep9::{self, FieldType};
use mooring_stellar::text::has_forbidden;
use mooring_stellar::{Amount, PublicKey};

use crate::Error;
use crate::admin::{NewAsset, NewCorridor, NewCustomerField, NewCustomerType, NewOffchainAsset};
use crate::host;
use crate::public_net::{self, UrlPolicy};
use crate::{FeeTier, RateSource};

pub fn check_account(account: &str, what: &str) -> Result<PublicKey, Error> {
    account
        .parse::<PublicKey>()
        .map_err(|_| Error::Invalid(format!("{what} {account:?} is not a valid G... account")))
}

/// An http(s) URL with a host and nothing that could smuggle a second one in
/// (userinfo). Returned without a trailing slash.
pub fn check_http_url(raw: &str, what: &str) -> Result<String, Error> {
    let ok = http_url(raw).is_some_and(|url| url.query().is_none());
    ok.then(|| raw.trim_end_matches('/').to_string())
        .ok_or_else(|| Error::Invalid(format!("{what} {raw:?} is not an http(s) URL")))
}

/// `raw` parsed, if it is an http(s) URL of at most 500 bytes with a host and neither
/// userinfo nor a fragment.
fn http_url(raw: &str) -> Option<url::Url> {
    let url = url::Url::parse(raw).ok()?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none()
        && url.fragment().is_none()
        && raw.len() <= 500;
    ok.then_some(url)
}

/// The organisation's stellar.toml fields (SEP-1 `[DOCUMENTATION]`): what wallets show
/// and link to, so a URL is public https (never `javascript:` or `file:`), the logo an
/// image, the e-mails e-mail addresses. Empty text clears a field and is always fine.
pub fn check_org(org: &OrgFields<'_>) -> Result<(), Error> {
    fn set(v: Option<&str>) -> Option<&str> {
        v.filter(|v| !v.is_empty())
    }
    for (what, text, max) in
        [("organisation name", org.name, 200), ("organisation description", org.description, 2000)]
    {
        if let Some(text) = set(text)
            && (text.chars().count() > max || has_forbidden(text))
        {
            return Err(invalid(format!("{what} must be at most {max} characters of text")));
        }
    }
    let strict = UrlPolicy::default();
    if let Some(url) = set(org.url) {
        public_net::check_outbound_url(url, "organisation URL", strict).map_err(Error::Invalid)?;
    }
    if let Some(logo) = set(org.logo) {
        let url =
            public_net::check_outbound_url(logo, "organisation logo", strict).map_err(Error::Invalid)?;
        let path = url.path().to_ascii_lowercase();
        if !IMAGE_EXTENSIONS.iter().any(|ext| path.ends_with(ext)) {
            return Err(invalid(format!(
                "organisation logo must be an image URL ({})",
                IMAGE_EXTENSIONS.join(", ")
            )));
        }
    }
    for (what, email) in [("official e-mail", org.official_email), ("support e-mail", org.support_email)] {
        if let Some(email) = set(email) {
            check_email(email).map_err(|why| invalid(format!("{what} {email:?} {why}")))?;
        }
    }
    Ok(())
}

/// The organisation fields of a settings change, as given.
#[derive(Default)]
pub struct OrgFields<'a> {
    pub name: Option<&'a str>,
    pub url: Option<&'a str>,
    pub description: Option<&'a str>,
    pub logo: Option<&'a str>,
    pub official_email: Option<&'a str>,
    pub support_email: Option<&'a str>,
}

const IMAGE_EXTENSIONS: [&str; 6] = [".png", ".jpg", ".jpeg", ".svg", ".webp", ".gif"];

/// An addr-spec as wallets and mail clients accept it: `local@domain`, a dotted domain
/// of valid labels, no spaces, quotes or control characters.
fn check_email(email: &str) -> Result<(), &'static str> {
    let (local, domain) = email.rsplit_once('@').ok_or("is not an e-mail address")?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b));
    let domain_ok = email.len() <= 254 && domain.contains('.') && check_domain(domain).is_ok();
    (local_ok && domain_ok).then_some(()).ok_or("is not an e-mail address")
}

pub fn check_domain(domain: &str) -> Result<String, Error> {
    let d = host::normalize(domain);
    let valid = !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    valid.then_some(d).ok_or_else(|| Error::Invalid(format!("{domain:?} is not a valid domain")))
}

/// SEP-1 `CURRENCIES` statuses.
/// Amounts carry 7 decimals on Stellar; more cannot be displayed meaningfully.
const MAX_DISPLAY_DECIMALS: i32 = 7;

fn invalid(message: impl Into<String>) -> Error {
    Error::Invalid(message.into())
}

/// A short machine name: a field name, a funding method, a customer type.
fn check_name(name: &str, what: &str) -> Result<(), Error> {
    let ok = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    ok.then_some(())
        .ok_or_else(|| invalid(format!("{what} {name:?} must be 1 to 64 letters, digits, '_', '-' or '.'")))
}

/// Free text shown to sending anchors.
fn check_text(text: &str, what: &str, max: usize) -> Result<(), Error> {
    if has_forbidden(text) {
        return Err(invalid(format!("{what} contains a control character")));
    }
    if text.len() > max {
        return Err(invalid(format!("{what} is longer than {max} bytes")));
    }
    Ok(())
}

fn check_unique<'a>(names: impl IntoIterator<Item = &'a str>, what: &str) -> Result<(), Error> {
    let mut seen = HashSet::new();
    for name in names {
        if !seen.insert(name) {
            return Err(invalid(format!("{what} {name:?} is given twice")));
        }
    }
    Ok(())
}

pub fn check_asset(new: &NewAsset) -> Result<(), Error> {
    check_account(&new.issuer, "asset issuer")?;
    let code_ok = (1..=12).contains(&new.code.len()) && new.code.bytes().all(|b| b.is_ascii_alphanumeric());
    if !code_ok {
        return Err(invalid(format!("{:?} is not a valid asset code", new.code)));
    }
    check_limits(new.min_amount, new.max_amount)?;
    check_fees(new.fee_fixed, new.fee_percent, &new.fee_tiers)?;
    if !(0..=MAX_DISPLAY_DECIMALS).contains(&new.display_decimals) {
        return Err(invalid(format!("display_decimals must be between 0 and {MAX_DISPLAY_DECIMALS}")));
    }
    check_text(&new.description, "description", 1000)?;
    check_text(&new.anchor_asset_type, "anchor_asset_type", 64)?;
    for method in &new.funding_methods {
        check_name(method, "funding method")?;
    }
    check_unique(new.funding_methods.iter().map(String::as_str), "funding method")?;
    for ty in [&new.sender_sep12_type, &new.receiver_sep12_type].into_iter().flatten() {
        check_name(ty, "SEP-12 type")?;
    }
    for field in &new.fields {
        check_name(&field.name, "field")?;
        check_text(&field.description, "field description", 1000)?;
        check_choices(field.choices.as_deref(), &field.name)?;
    }
    check_unique(new.fields.iter().map(|f| f.name.as_str()), "field")
}

/// A flat fee and its tiers: never negative, at most 100 %, tiers at distinct positive
/// amounts.
fn check_fees(fixed: Amount, percent: Amount, tiers: &[FeeTier]) -> Result<(), Error> {
    let fee_ok =
        |fixed: Amount, percent: Amount| fixed.0 >= 0 && percent.0 >= 0 && percent <= Amount::from_units(100);
    if !fee_ok(fixed, percent) || !tiers.iter().all(|t| fee_ok(t.fee_fixed, t.fee_percent)) {
        return Err(invalid("fees must be positive, and fee_percent at most 100"));
    }
    let mut mins: Vec<_> = tiers.iter().map(|t| t.min_amount).collect();
    mins.sort();
    mins.dedup();
    if mins.len() != tiers.len() || mins.first().is_some_and(|m| m.0 <= 0) {
        return Err(invalid("fee tiers need distinct, positive min amounts"));
    }
    Ok(())
}

/// An off-chain currency: an ISO 4217 code, at most 7 decimals, alpha-2 countries,
/// named delivery methods.
pub fn check_offchain_asset(new: &NewOffchainAsset) -> Result<(), Error> {
    format!("iso4217:{}", new.code)
        .parse::<mooring_stellar::sep38::Asset>()
        .map_err(|e| invalid(e.to_string()))?;
    if new.decimals > 7 {
        return Err(invalid("decimals must be between 0 and 7"));
    }
    for country in &new.country_codes {
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid(format!("{country:?} is not an ISO 3166-1 alpha-2 country code")));
        }
    }
    check_unique(new.country_codes.iter().map(String::as_str), "country code")?;
    for m in &new.delivery_methods {
        check_name(&m.name, "delivery method")?;
        check_text(&m.description, "delivery method description", 1000)?;
    }
    check_unique(new.delivery_methods.iter().map(|m| m.name.as_str()), "delivery method")
}

/// The longest a firm quote may live, and the widest spread: beyond these a typo is
/// likelier than intent.
pub const MAX_QUOTE_LIFETIME_SECS: i64 = 7 * 86_400;
pub const MAX_SPREAD_BPS: u32 = 5_000;

pub fn check_corridor(new: &NewCorridor, policy: UrlPolicy) -> Result<(), Error> {
    match &new.rate {
        RateSource::Manual { rate, .. } => check_rate(rate)?,
        RateSource::Feed { url } => check_feed_url(url, policy)?,
    }
    if new.spread_bps > MAX_SPREAD_BPS {
        return Err(invalid(format!("spread_bps must be at most {MAX_SPREAD_BPS}")));
    }
    if !(10..=MAX_QUOTE_LIFETIME_SECS).contains(&new.quote_lifetime_secs) {
        return Err(invalid(format!("quote_lifetime_secs must be between 10 and {MAX_QUOTE_LIFETIME_SECS}")));
    }
    if new.max_rate_age_secs.is_some_and(|a| a < 1) {
        return Err(invalid("max_rate_age_secs must be positive"));
    }
    check_limits(new.min_sell, new.max_sell)?;
    if new.max_outstanding.is_some_and(|a| a <= Amount::ZERO) {
        return Err(invalid("max_outstanding must be positive"));
    }
    check_fees(new.fee_fixed, new.fee_percent, &new.fee_tiers)
}

/// A rate feed: an http(s) URL as `check_http_url` wants, except that a query is allowed
/// (feeds are usually parameterised by currency).
fn check_feed_url(raw: &str, policy: UrlPolicy) -> Result<(), Error> {
    let ok = http_url(raw).is_some() && !has_forbidden(raw);
    if !ok {
        return Err(Error::Invalid(format!("rate feed {raw:?} is not an http(s) URL")));
    }
    public_net::check_outbound_url(raw, "rate feed URL", policy).map(drop).map_err(Error::Invalid)
}

/// A URL a tenant gives for the platform to call (webhook endpoints): what
/// `check_http_url` wants, and public https as `policy` says. Returned without a
/// trailing slash.
pub fn check_tenant_url(raw: &str, what: &str, policy: UrlPolicy) -> Result<String, Error> {
    let url = check_http_url(raw, what)?;
    public_net::check_outbound_url(&url, what, policy).map_err(Error::Invalid)?;
    Ok(url)
}

/// A market rate (buy units per sell unit): its inverse is the SEP-38 price, which must be
/// within what is quoted.
pub fn check_rate(rate: &rust_decimal::Decimal) -> Result<(), Error> {
    if (mooring_stellar::sep38::MIN_PRICE..=mooring_stellar::sep38::MAX_PRICE).contains(rate) {
        Ok(())
    } else {
        Err(invalid("the rate must be between 0.000000000001 and 1000000000000"))
    }
}

/// Optional amount limits: positive, and the minimum not above the maximum.
fn check_limits(min: Option<Amount>, max: Option<Amount>) -> Result<(), Error> {
    for (amount, what) in [(min, "min_amount"), (max, "max_amount")] {
        if amount.is_some_and(|a| a <= Amount::ZERO) {
            return Err(invalid(format!("{what} must be positive")));
        }
    }
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        return Err(invalid("min_amount is above max_amount"));
    }
    Ok(())
}

fn check_choices(choices: Option<&[String]>, field: &str) -> Result<(), Error> {
    let Some(choices) = choices else { return Ok(()) };
    if choices.is_empty() {
        return Err(invalid(format!("{field}: choices, when given, list at least one value")));
    }
    for choice in choices {
        if choice.is_empty() {
            return Err(invalid(format!("{field}: a choice is empty")));
        }
        check_text(choice, &format!("{field} choice"), 200)?;
    }
    check_unique(choices.iter().map(String::as_str), &format!("{field} choice"))
}

pub fn check_customer_type(new: &NewCustomerType) -> Result<(), Error> {
    check_name(&new.name, "customer type name")?;
    check_text(&new.description, "description", 1000)?;
    for field in &new.fields {
        check_name(&field.name, "field")?;
        check_text(&field.description, "field description", 1000)?;
        check_choices(field.choices.as_deref(), &field.name)?;
    }
    check_unique(new.fields.iter().map(|f| f.name.as_str()), "field")
}

/// A customer field's type: a SEP-9 field's own (another type given is refused), a
/// custom field's given one. A name outside SEP-9 must be marked custom, so that a
/// misspelt standard name is caught instead of quietly becoming a new field.
pub fn field_type(f: &NewCustomerField) -> Result<FieldType, Error> {
    match (sep9::field_type(&f.name), f.custom, f.field_type) {
        (Some(t), _, None) => Ok(t),
        (Some(t), _, Some(given)) if t == given => Ok(t),
        (Some(t), _, Some(_)) => Err(invalid(format!("SEP-9 field {} is of type {}", f.name, t.as_str()))),
        (None, false, _) => {
            Err(invalid(format!("{} is not a SEP-9 field; mark it custom to use it anyway", f.name)))
        }
        (None, true, Some(given)) => Ok(given),
        (None, true, None) => Err(invalid(format!("custom field {} needs a type", f.name))),
    }
}

/// A request rate: (per second, burst), both from 1 to a million.
pub fn check_rate_limit((per_second, burst): (u32, u32)) -> Result<(), Error> {
    let range = 1..=1_000_000;
    if range.contains(&per_second) && range.contains(&burst) {
        Ok(())
    } else {
        Err(invalid("a rate limit needs a rate and a burst between 1 and 1,000,000"))
    }
}
