//! Configuration forms: labelled controls, the values sent kept after a refusal, and
//! the API's refusal shown beside the field it names (`aria-invalid`, described by the
//! message), or above the form when it names none.

use super::SignedIn;
use super::pages::esc;

/// How a control is drawn.
pub(super) enum Control<'a> {
    Text,
    /// A decimal amount or rate (a numeric keyboard, still text: 7 places, no floats).
    Decimal,
    /// A whole number.
    Number,
    /// Several lines.
    Lines,
    /// One of `(value, label)`.
    Select(Vec<(String, String)>),
    /// On or off (`on` when ticked).
    Check,
    /// Several of `(value, label)`, each its own `name` entry.
    Checks(&'a [(&'a str, &'a str)]),
}

pub(super) struct Field<'a> {
    /// The form field's name.
    pub name: &'a str,
    pub label: &'a str,
    pub control: Control<'a>,
    /// What is in it when the page is drawn.
    pub value: String,
    pub required: bool,
    /// Words by which the API's messages name this field (besides `name`).
    pub known_as: &'a [&'a str],
}

impl<'a> Field<'a> {
    pub fn new(name: &'a str, label: &'a str, control: Control<'a>) -> Self {
        Field { name, label, control, value: String::new(), required: false, known_as: &[] }
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn value(mut self, v: impl Into<String>) -> Self {
        self.value = v.into();
        self
    }

    /// The current value from the API's JSON ("" for null).
    pub fn json(self, v: &serde_json::Value) -> Self {
        let shown = match v {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        self.value(shown)
    }

    pub fn known_as(mut self, words: &'a [&'a str]) -> Self {
        self.known_as = words;
        self
    }
}

/// A form posting to `action`, or to the page itself when it is "".
pub(super) struct FormView<'a> {
    pub id: &'a str,
    pub action: &'a str,
    pub button: &'a str,
    pub fields: Vec<Field<'a>>,
}

impl FormView<'_> {
    /// The form as HTML. `sent` (the values posted, after a refusal) replaces the
    /// values drawn; `error` goes beside the field it names.
    pub fn html(&self, who: &SignedIn, sent: Option<&[(String, String)]>, error: Option<&str>) -> String {
        let at = error.and_then(|e| named_field(e, &self.fields));
        let mut out = match (error, at) {
            (Some(e), None) => {
                format!(r#"<p class="error" role="alert" id="{}-error">{}</p>"#, self.id, esc(e))
            }
            _ => String::new(),
        };
        let action =
            if self.action.is_empty() { String::new() } else { format!(r#" action="{}""#, self.action) };
        out += &format!(
            r#"<form method="post"{action} id="{}"><input type="hidden" name="csrf" value="{}">"#,
            self.id,
            esc(who.csrf())
        );
        for (i, f) in self.fields.iter().enumerate() {
            let id = format!("{}-{}", self.id, f.name.replace(['_', ':'], "-"));
            let sent_values: Vec<&str> =
                sent.into_iter().flatten().filter(|(k, _)| k == f.name).map(|(_, v)| v.as_str()).collect();
            let value = match sent {
                Some(_) => sent_values.first().copied().unwrap_or_default().to_string(),
                None => f.value.clone(),
            };
            let (invalid, message) = match (at == Some(i), error) {
                (true, Some(e)) => (
                    format!(r#" aria-invalid="true" aria-describedby="{id}-error""#),
                    format!(r#"<span class="field-error" role="alert" id="{id}-error">{}</span>"#, esc(e)),
                ),
                _ => (String::new(), String::new()),
            };
            let required = if f.required { " required" } else { "" };
            let (name, label, v) = (f.name, esc(f.label), esc(&value));
            let control = match &f.control {
                Control::Text => format!(r#"<input id="{id}" name="{name}" value="{v}"{required}{invalid}>"#),
                Control::Decimal => format!(
                    r#"<input id="{id}" name="{name}" value="{v}" inputmode="decimal"{required}{invalid}>"#
                ),
                Control::Number => format!(
                    r#"<input id="{id}" name="{name}" value="{v}" inputmode="numeric" pattern="[0-9]*"{required}{invalid}>"#
                ),
                Control::Lines => {
                    format!(r#"<textarea id="{id}" name="{name}" rows="4"{required}{invalid}>{v}</textarea>"#)
                }
                Control::Select(options) => {
                    let mut o = String::new();
                    for (val, text) in options {
                        let sel = if *val == value { " selected" } else { "" };
                        o += &format!(r#"<option value="{}"{sel}>{}</option>"#, esc(val), esc(text));
                    }
                    format!(r#"<select id="{id}" name="{name}"{invalid}>{o}</select>"#)
                }
                Control::Check => {
                    let on = if sent.is_some() { !sent_values.is_empty() } else { value == "true" };
                    let checked = if on { " checked" } else { "" };
                    out += &format!(
                        r#"<p><input type="checkbox" id="{id}" name="{name}"{checked}{invalid}> <label for="{id}">{label}</label>{message}</p>"#
                    );
                    continue;
                }
                Control::Checks(options) => {
                    let chosen: Vec<&str> = match sent {
                        Some(_) => sent_values.clone(),
                        None => f.value.split(',').collect(),
                    };
                    let mut boxes = String::new();
                    for (j, (val, text)) in options.iter().enumerate() {
                        let checked = if chosen.contains(val) { " checked" } else { "" };
                        boxes += &format!(
                            r#"<input type="checkbox" id="{id}-{j}" name="{name}" value="{}"{checked}> <label for="{id}-{j}">{}</label> "#,
                            esc(val),
                            esc(text)
                        );
                    }
                    out +=
                        &format!(r#"<fieldset{invalid}><legend>{label}</legend>{boxes}{message}</fieldset>"#);
                    continue;
                }
            };
            out += &format!(r#"<label for="{id}">{label}</label>{control}{message}"#);
        }
        out += &format!(r#"<p><button type="submit">{}</button></p></form>"#, esc(self.button));
        out
    }
}

/// The field the message names: the one whose name (or another word for it) comes
/// first in the message.
fn named_field(message: &str, fields: &[Field<'_>]) -> Option<usize> {
    let text = message.to_ascii_lowercase();
    let mut best: Option<(usize, usize)> = None;
    for (i, f) in fields.iter().enumerate() {
        let camel = camel(f.name);
        let words = [f.name, camel.as_str()].into_iter().chain(f.known_as.iter().copied());
        for w in words.filter(|w| !w.is_empty()) {
            let w = w.to_ascii_lowercase();
            let found = text.match_indices(&w).find(|(at, _)| {
                let before = text[..*at].chars().next_back();
                let after = text[at + w.len()..].chars().next();
                !before.is_some_and(|c| c.is_ascii_alphanumeric())
                    && !after.is_some_and(|c| c.is_ascii_alphanumeric())
            });
            if let Some((at, _)) = found
                && best.is_none_or(|(b, _)| at < b)
            {
                best = Some((at, i));
            }
        }
    }
    best.map(|(_, i)| i)
}

/// `min_amount` as the API names it (`minAmount`), compared lower-cased.
fn camel(name: &str) -> String {
    name.replace('_', "")
}

/// The values posted, as pairs, without the CSRF token.
pub(super) fn value<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).unwrap_or_default()
}

/// A posted value, or null when empty (the API's "leave as it is").
pub(super) fn opt(form: &[(String, String)], name: &str) -> serde_json::Value {
    let v = value(form, name);
    if v.is_empty() { serde_json::Value::Null } else { serde_json::Value::String(v.to_string()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<Field<'static>> {
        vec![
            Field::new("code", "Code", Control::Text),
            Field::new("issuer", "Issuer", Control::Text),
            Field::new("min_amount", "Smallest amount", Control::Decimal),
            Field::new("fee_percent", "Percentage fee", Control::Decimal).known_as(&["fees"]),
        ]
    }

    #[test]
    fn the_message_lands_beside_the_field_it_names_first() {
        let f = fields();
        assert_eq!(named_field(r#"issuer "GBAD" is not a valid G... account"#, &f), Some(1));
        assert_eq!(named_field("minAmount must be positive", &f), Some(2));
        assert_eq!(named_field("fees must be positive, and fee_percent at most 100", &f), Some(3));
        // A word inside another word is no mention: "codes" is not "code".
        assert_eq!(named_field("no asset codes here", &f), None);
        assert_eq!(named_field("the tenant is suspended", &f), None);
    }
}
