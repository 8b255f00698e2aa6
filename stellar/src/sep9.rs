//! SEP-9 standard KYC fields: which names exist, what type each is, and how a value of
//! each is checked. Values are checked before anything is stored.

use crate::Error;

/// The SEP-12 `type` of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    String,
    Binary,
    Number,
    Date,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Binary => "binary",
            Self::Number => "number",
            Self::Date => "date",
        }
    }
}

/// How a string value is checked beyond its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Free,
    Email,
    Phone,
    Country,
    Language,
    Choices(&'static [&'static str]),
}

use FieldType::{Binary, Date, Number, String as Str};
use Format::*;

const FIELDS: &[(&str, FieldType, Format)] = &[
    // Natural person.
    ("family_name", Str, Free),
    ("last_name", Str, Free),
    ("given_name", Str, Free),
    ("first_name", Str, Free),
    ("additional_name", Str, Free),
    ("address_country_code", Str, Country),
    ("state_or_province", Str, Free),
    ("city", Str, Free),
    ("postal_code", Str, Free),
    ("address", Str, Free),
    ("mobile_number", Str, Phone),
    ("mobile_number_format", Str, Free),
    ("email_address", Str, Email),
    ("birth_date", Date, Free),
    ("birth_place", Str, Free),
    ("birth_country_code", Str, Country),
    ("tax_id", Str, Free),
    ("tax_id_name", Str, Free),
    ("occupation", Number, Free),
    ("employer_name", Str, Free),
    ("employer_address", Str, Free),
    ("language_code", Str, Language),
    ("ip_address", Str, Free),
    ("sex", Str, Choices(&["male", "female", "other"])),
    ("referral_id", Str, Free),
    ("id_type", Str, Free),
    ("id_country_code", Str, Country),
    ("id_issue_date", Date, Free),
    ("id_expiration_date", Date, Free),
    ("id_number", Str, Free),
    ("photo_id_front", Binary, Free),
    ("photo_id_back", Binary, Free),
    ("notary_approval_of_photo_id", Binary, Free),
    ("photo_proof_residence", Binary, Free),
    ("proof_of_income", Binary, Free),
    ("proof_of_liveness", Binary, Free),
    // Financial account.
    ("bank_name", Str, Free),
    ("bank_account_type", Str, Choices(&["checking", "savings"])),
    ("bank_account_number", Str, Free),
    ("bank_number", Str, Free),
    ("bank_phone_number", Str, Phone),
    ("bank_branch_number", Str, Free),
    ("external_transfer_memo", Str, Free),
    ("clabe_number", Str, Free),
    ("cbu_number", Str, Free),
    ("cbu_alias", Str, Free),
    ("mobile_money_number", Str, Free),
    ("mobile_money_provider", Str, Free),
    ("crypto_address", Str, Free),
    ("crypto_memo", Str, Free),
    // Organization.
    ("organization.name", Str, Free),
    ("organization.VAT_number", Str, Free),
    ("organization.registration_number", Str, Free),
    ("organization.registration_date", Date, Free),
    ("organization.registered_address", Str, Free),
    ("organization.number_of_shareholders", Number, Free),
    ("organization.shareholder_name", Str, Free),
    ("organization.photo_incorporation_doc", Binary, Free),
    ("organization.photo_proof_address", Binary, Free),
    ("organization.address_country_code", Str, Country),
    ("organization.state_or_province", Str, Free),
    ("organization.city", Str, Free),
    ("organization.postal_code", Str, Free),
    ("organization.director_name", Str, Free),
    ("organization.website", Str, Free),
    ("organization.email", Str, Email),
    ("organization.phone", Str, Phone),
    ("organization.bank_name", Str, Free),
    ("organization.bank_account_type", Str, Choices(&["checking", "savings"])),
    ("organization.bank_account_number", Str, Free),
    ("organization.bank_number", Str, Free),
    ("organization.bank_phone_number", Str, Phone),
    ("organization.bank_branch_number", Str, Free),
];

/// ISO 3166-1 alpha-3, as SEP-9 country codes are.
const COUNTRIES: &str = "ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA \
BGD BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR COD COG COK COL \
COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH ESP EST ETH FIN FJI FLK FRA FRO FSM \
GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL GTM GUF GUM GUY HKG HMD HND HRV HTI HUN IDN IMN IND IOT \
IRL IRN IRQ ISL ISR ITA JAM JEY JOR JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX \
LVA MAC MAF MAR MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL NER \
NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN PER PHL PLW PNG POL PRI PRK PRT PRY PSE PYF QAT REU ROU RUS \
RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO \
THA TJK TKL TKM TLS TON TTO TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM VUT WLF WSM YEM \
ZAF ZMB ZWE";

/// The SEP-9 type of a standard field name, or `None` for a name SEP-9 does not define.
pub fn field_type(name: &str) -> Option<FieldType> {
    FIELDS.iter().find(|(n, ..)| *n == name).map(|(_, t, _)| *t)
}

pub fn is_standard(name: &str) -> bool {
    field_type(name).is_some()
}

fn invalid(name: &str, why: &str) -> Error {
    Error::InvalidField { field: name.to_string(), reason: why.to_string() }
}

/// A value of field `name` that [`validate`] accepts (what a test customer sends; the
/// self-test fills forms with these). `None` for files, which are not text.
pub fn example(name: &str, ty: FieldType, choices: Option<&[String]>) -> Option<String> {
    if let Some(first) = choices.and_then(|c| c.first()) {
        return Some(first.clone());
    }
    let format = FIELDS.iter().find(|(n, ..)| *n == name).map_or(Free, |(_, _, f)| *f);
    Some(match (ty, format) {
        (FieldType::Binary, _) => return None,
        (FieldType::Date, _) => "1990-01-31".into(),
        (FieldType::Number, _) => "1".into(),
        (_, Email) => "selftest@example.com".into(),
        (_, Phone) => "+14155552671".into(),
        (_, Country) => "USA".into(),
        (_, Language) => "en".into(),
        (_, Choices(allowed)) => allowed.first().map_or("x", |c| *c).to_string(),
        (_, Free) => "Self-test".into(),
    })
}

/// Checks a text value of field `name`, whose declared type is `ty` (SEP-9's for a
/// standard name, the tenant's for a custom one). `choices`, if any, are the tenant's.
pub fn validate(name: &str, ty: FieldType, value: &str, choices: Option<&[String]>) -> Result<(), Error> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(name, "must not be empty"));
    }
    if value.len() > 1000 {
        return Err(invalid(name, "is longer than 1000 characters"));
    }
    match ty {
        FieldType::Binary => return Err(invalid(name, "is a file: send it as a multipart/form-data part")),
        FieldType::Date => {
            let ok = value.len() == 10 && chrono_free_date(value);
            if !ok {
                return Err(invalid(name, "must be a date as YYYY-MM-DD"));
            }
        }
        FieldType::Number => {
            if value.parse::<f64>().map_or(true, |n| !n.is_finite()) {
                return Err(invalid(name, "must be a number"));
            }
        }
        FieldType::String => {}
    }
    let format = FIELDS.iter().find(|(n, ..)| *n == name).map_or(Free, |(_, _, f)| *f);
    match format {
        Free => {}
        Email => {
            let ok = value.split_once('@').is_some_and(|(user, domain)| {
                !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
            }) && !value.contains(char::is_whitespace);
            if !ok {
                return Err(invalid(name, "must be an email address"));
            }
        }
        Phone => {
            let digits = value.strip_prefix('+').unwrap_or("");
            let ok = (7..=15).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0');
            if !ok {
                return Err(invalid(name, "must be a phone number in E.164 format, e.g. +14155552671"));
            }
        }
        Country => {
            if value.len() != 3 || !COUNTRIES.split(' ').any(|c| c == value) {
                return Err(invalid(name, "must be an ISO 3166-1 alpha-3 country code, e.g. BRA"));
            }
        }
        Language => {
            if value.len() != 2 || !value.bytes().all(|b| b.is_ascii_lowercase()) {
                return Err(invalid(name, "must be an ISO 639-1 language code, e.g. en"));
            }
        }
        Choices(allowed) => {
            if !allowed.contains(&value) {
                return Err(invalid(name, &format!("must be one of {}", allowed.join(", "))));
            }
        }
    }
    if let Some(choices) = choices
        && !choices.is_empty()
        && !choices.iter().any(|c| c == value)
    {
        return Err(invalid(name, &format!("must be one of {}", choices.join(", "))));
    }
    Ok(())
}

/// `YYYY-MM-DD` naming a real calendar day (leap years included).
fn chrono_free_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else { return false };
    if !s[0..4].bytes().chain(s[5..7].bytes()).chain(s[8..10].bytes()).all(|c| c.is_ascii_digit()) {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1900..=2200).contains(&y) && (1..=days).contains(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, value: &str) -> bool {
        validate(name, field_type(name).unwrap(), value, None).is_ok()
    }

    #[test]
    fn every_catalogued_text_field_has_an_example_that_validates() {
        for (name, ty, _) in FIELDS {
            match example(name, *ty, None) {
                Some(v) => assert_eq!(validate(name, *ty, &v, None), Ok(()), "{name}: {v}"),
                None => assert_eq!(*ty, FieldType::Binary, "{name}"),
            }
        }
        let choices = vec!["savings".to_string()];
        assert_eq!(
            example("bank_account_type", FieldType::String, Some(&choices)).as_deref(),
            Some("savings")
        );
    }

    #[test]
    fn values_are_checked_by_kind() {
        let cases: &[(&str, &str, bool)] = &[
            ("email_address", "ana@example.com", true),
            ("email_address", "ana@", false),
            ("email_address", "ana example@x.com", false),
            ("birth_date", "1990-02-28", true),
            ("birth_date", "1992-02-29", true),
            ("birth_date", "1990-02-29", false),
            ("birth_date", "28/02/1990", false),
            ("birth_date", "1990-13-01", false),
            ("address_country_code", "BRA", true),
            ("address_country_code", "BR", false),
            ("address_country_code", "XYZ", false),
            ("mobile_number", "+14155552671", true),
            ("mobile_number", "4155552671", false),
            ("bank_account_type", "checking", true),
            ("bank_account_type", "current", false),
            ("language_code", "pt", true),
            ("language_code", "por", false),
            ("occupation", "2512", true),
            ("occupation", "coder", false),
            ("first_name", "Ana", true),
            ("first_name", "   ", false),
        ];
        for (name, value, ok) in cases {
            assert_eq!(check(name, value), *ok, "{name} = {value:?}");
        }
    }

    #[test]
    fn errors_name_the_field_and_tenant_choices_apply() {
        let err = validate("first_name", FieldType::String, "", None).unwrap_err();
        assert!(err.to_string().contains("first_name"));
        let choices = vec!["A".to_string(), "B".to_string()];
        assert!(validate("custom", FieldType::String, "A", Some(&choices)).is_ok());
        assert!(validate("custom", FieldType::String, "C", Some(&choices)).is_err());
        assert!(validate("photo_id_front", FieldType::Binary, "x", None).is_err());
        assert!(is_standard("organization.VAT_number") && !is_standard("favourite_colour"));
    }
}
